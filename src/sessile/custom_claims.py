"""Custom claims (DESIGN §12): the app's claims mapping (``sessile.claims_mapping``), kept
as the live configuration document ``claims`` and resolved for every access token.

The document holds ``{"syntax": 2, "mapping": {…}}``. A document without that marker was
written by an earlier sessile, whose ``PUT …/config/claims`` took ``{"claims": {name:
source}}`` and put strings under ``cc``; such a document keeps doing exactly that until a
mapping replaces it (``legacy_cc``). The marker can't be mistaken for it: those
documents hold strings and ``{"value": …}`` objects only, never a number.

Every token carries ``cc`` (Prelude's SDK 0.6.0 types it as a required
``Record<string, string>``): ``{}`` unless an earlier document fills it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sessile.claims import identity_claims
from sessile.claims_mapping import (
    SESSION_INPUTS,
    Subject,
    check_mapping,
    inputs_of,
    resolve_mapping,
)
from sessile.live_config import ConfigDocument, LiveConfig
from sessile.store.session_rows import SessionRow
from sessile.store.users import User, UserStore

__all__ = [
    "CONFIG_NAME",
    "MAX_CC_BYTES",
    "ClaimsConfig",
    "CustomClaims",
    "SessionLookup",
    "legacy_cc",
]

log = logging.getLogger("sessile.claims")

CONFIG_NAME = "claims"
#: Marks a document in the mapping's syntax (see the module's docstring).
_SYNTAX = 2
MAX_CC_BYTES = 2048


class SessionLookup(Protocol):
    async def get(self, session_id: str) -> SessionRow | None: ...


@dataclass(frozen=True)
class ClaimsConfig:
    """The stored mapping with its version and times (Prelude's ``config`` object)."""

    mapping: Mapping[str, Any]
    version: int
    created_at: float
    updated_at: float
    #: The ``cc`` claims of a document an earlier sessile wrote, while it is in force.
    cc_claims: Mapping[str, Any] | None = None


def _parts(value: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The document's mapping, and its earlier ``cc`` claims (one of them is empty)."""
    if not isinstance(value, dict) or not value:
        return {}, {}
    if value.get("syntax") == _SYNTAX and isinstance(value.get("mapping"), dict):
        return value["mapping"], {}
    return {}, value


def _config(document: ConfigDocument) -> ClaimsConfig:
    mapping, legacy = _parts(document.value)
    return ClaimsConfig(
        mapping=mapping,
        version=document.version,
        created_at=document.created_at,
        updated_at=document.updated_at,
        cc_claims=legacy or None,
    )


# An earlier sessile's claims, under cc as strings ---------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return json.dumps(value, separators=(",", ":"))


def _legacy_source(user: User, source: Any) -> Any:
    if isinstance(source, dict):
        return source.get("value")
    if not isinstance(source, str):
        return None
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
    }.get(source)


def legacy_cc(claims: Mapping[str, Any], user: User) -> dict[str, str]:
    """``cc`` as an earlier sessile made it: missing sources are left out, and so is
    whatever would make it larger than ``MAX_CC_BYTES``."""
    cc: dict[str, str] = {}
    size = 2
    for name, source in claims.items():
        value = _legacy_source(user, source)
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


# The service ----------------------------------------------------------------------------------
class CustomClaims:
    """The per-user claims callable for ``AccessTokens``, and the mapping's keeper.

    The mapping is a live configuration document, so every node picks up a change within
    seconds; with no mapping, no user is read, and the session's row only when the
    mapping names one of its inputs (``ip``, ``country_code``).
    """

    def __init__(self, live: LiveConfig, users: UserStore, sessions: SessionLookup) -> None:
        self._live = live
        self._users = users
        self._sessions = sessions

    async def config(self) -> ClaimsConfig | None:
        """The mapping as stored now (not as cached), or None when none was ever set."""
        self._live.forget()
        document = await self._live.get(CONFIG_NAME)
        return None if document is None else _config(document)

    async def replace(self, mapping: Mapping[str, Any]) -> ClaimsConfig:
        """Check and store a new mapping (a new version, audited); this node uses it from
        its next token on, every other one within seconds."""
        checked = check_mapping(mapping)
        document = await self._live.put(CONFIG_NAME, {"syntax": _SYNTAX, "mapping": checked})
        return _config(document)

    async def __call__(self, user_id: str, session_id: str | None = None) -> dict[str, Any]:
        mapping, legacy = _parts(await self._live.value(CONFIG_NAME))
        if not mapping and not legacy:
            return {"cc": {}}
        user = await self._users.get(user_id)
        if user is None:
            return {"cc": {}}
        claims: dict[str, Any] = {}
        if mapping:
            claims = resolve_mapping(mapping, await self._subject(user, session_id, mapping))
        claims["cc"] = legacy_cc(legacy, user) if legacy else {}
        return claims

    async def _subject(
        self, user: User, session_id: str | None, mapping: Mapping[str, Any]
    ) -> Subject:
        session = None
        if session_id is not None and inputs_of(mapping) & SESSION_INPUTS:
            session = await self._sessions.get(session_id)
        identity = identity_claims(user)
        return Subject(
            user_id=user.id,
            profile=user.profile,
            external_id=user.external_id,
            email=identity.get("email"),
            phone_number=identity.get("phone_number"),
            session_id=session_id,
            ip=session.ip if session else None,
            country_code=session.country_code if session else None,
        )
