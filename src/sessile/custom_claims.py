"""Custom claims (DESIGN §12): a mapping, set through ``PUT …/config/claims``, from user
fields, profile members and constants to the ``cc`` claim of each access token.

Prelude's SDK types ``cc`` as ``Record<string, string>``, so every value is a string: text
as is, booleans and numbers in their JSON spelling, a list of scopes joined by spaces, and
anything else as compact JSON. A mapping is checked when it is set (reserved names, sizes);
at issue, claims that would push ``cc`` past ``MAX_CC_BYTES`` are left out.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from sessile.errors import BadRequest
from sessile.live_config import LiveConfig
from sessile.store.users import User, UserStore

__all__ = [
    "MAX_CC_BYTES",
    "RESERVED_CLAIMS",
    "CustomClaims",
    "check_mapping",
    "resolve_claims",
]

log = logging.getLogger("sessile.claims")

MAX_CLAIMS = 32
MAX_CC_BYTES = 2048
MAX_CONSTANT_BYTES = 512
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
_PROFILE_PATH = re.compile(r"^profile(\.[A-Za-z0-9_-]{1,64}){1,8}$")
#: Registered (RFC 7519, RFC 9068, RFC 9449) and sessile's own claim names.
RESERVED_CLAIMS = frozenset(
    [
        "iss",
        "sub",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "sid",
        "scope",
        "cnf",
        "cc",
        "minted",
        "typ",
        "azp",
        "client_id",
        "auth_time",
        "acr",
        "amr",
        "nonce",
        "email",
        "email_verified",
        "phone_number",
        "phone_number_verified",
    ]
)
USER_FIELDS = (
    "user.id",
    "user.external_id",
    "user.scopes",
    "user.email",
    "user.phone_number",
    "user.created_at",
)
CONFIG_NAME = "claims"


def check_mapping(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping if every name and source is acceptable; otherwise ``bad_request``."""
    if len(mapping) > MAX_CLAIMS:
        raise BadRequest(f"At most {MAX_CLAIMS} custom claims.")
    for name, source in mapping.items():
        if not _NAME.match(name):
            raise BadRequest(f"{name!r} is not a claim name (letters, digits, _ . : -).")
        if name in RESERVED_CLAIMS:
            raise BadRequest(f"{name!r} is a reserved claim name.")
        if isinstance(source, str):
            if source not in USER_FIELDS and not _PROFILE_PATH.match(source):
                raise BadRequest(
                    f"{name!r}: a source is one of {', '.join(USER_FIELDS)}, "
                    'profile.<member>[.<member>…], or {"value": <constant>}.'
                )
        elif isinstance(source, dict) and set(source) == {"value"}:
            if len(json.dumps(source["value"]).encode()) > MAX_CONSTANT_BYTES:
                raise BadRequest(f"{name!r}: a constant is at most {MAX_CONSTANT_BYTES} bytes.")
        else:
            raise BadRequest(f'{name!r}: a source is a string or {{"value": <constant>}}.')
    return dict(mapping)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return json.dumps(value, separators=(",", ":"))


def _source(user: User, source: Any) -> Any:
    if isinstance(source, dict):
        return source["value"]
    if source.startswith("profile."):
        value: Any = user.profile
        for member in source.split(".")[1:]:
            value = value.get(member) if isinstance(value, Mapping) else None
        return value
    kind = {"user.email": "email_address", "user.phone_number": "phone_number"}.get(source)
    if kind is not None:
        held = [i for i in user.identifiers if i.type == kind]
        proven = [i for i in held if i in user.proven]
        return (proven or held)[0].value if held else None
    return {
        "user.id": user.id,
        "user.external_id": user.external_id,
        "user.scopes": list(user.scopes),
        "user.created_at": int(user.created_at),
    }[source]


def resolve_claims(mapping: Mapping[str, Any], user: User) -> dict[str, str]:
    """The ``cc`` object for ``user``: missing sources are left out, and so is whatever
    would make it larger than ``MAX_CC_BYTES``."""
    cc: dict[str, str] = {}
    size = 2
    for name, source in mapping.items():
        value = _source(user, source)
        if value is None:
            continue
        text = _text(value)
        cost = len(json.dumps({name: text}).encode())
        if size + cost > MAX_CC_BYTES:
            log.warning("custom claim left out: cc is full", extra={"claim": name})
            continue
        cc[name] = text
        size += cost
    return cc


class CustomClaims:
    """The per-user claims callable for ``AccessTokens``: ``{"cc": {...}}``.

    The mapping is a live configuration document, so every node picks up a change within
    seconds; with no mapping, no user is read.
    """

    def __init__(self, live: LiveConfig, users: UserStore) -> None:
        self._live = live
        self._users = users

    async def mapping(self) -> dict[str, Any]:
        return dict(await self._live.value(CONFIG_NAME) or {})

    async def stored(self) -> dict[str, Any]:
        """The mapping as stored now, not as cached."""
        self._live.forget()
        return await self.mapping()

    async def replace(self, mapping: Mapping[str, Any]) -> dict[str, Any]:
        """Check and store a new mapping; this node uses it from its next token on."""
        checked = check_mapping(mapping)
        await self._live.put(CONFIG_NAME, checked)
        return checked

    async def __call__(self, user_id: str) -> dict[str, Any]:
        mapping = await self.mapping()
        if not mapping:
            return {"cc": {}}
        user = await self._users.get(user_id)
        return {"cc": {} if user is None else resolve_claims(mapping, user)}
