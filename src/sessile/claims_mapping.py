"""The claims mapping of Prelude's custom-claims guide: what every access token carries
beyond sessile's own claims, set once per app through ``…/config/claims``.

Each top-level member of a mapping becomes a claim of that name, at the top level of the
token (the guide: "each top-level key becomes a claim"), with its JSON type kept:

- a literal (string, number, boolean, null, or an array of those) is copied as it is;
- ``{"$input": name, "$type": type}`` is something sessile knows of the user or the
  session (``INPUTS``);
- ``{"$custom_claim": field}`` is the user's profile member ``field``, null when the
  profile has none; it is read again at every issuance;
- any other object is a group of claims, kept nested and resolved the same way.

A mapping is checked when it is set (names, reserved claims, operators, sizes) and
resolved with plain values (``Subject``), so both are tested without a server.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sessile.errors import BadRequest
from sessile.storable import unstorable_path

__all__ = [
    "INPUTS",
    "MAX_PROFILE_BYTES",
    "RESERVED_CLAIMS",
    "SESSION_INPUTS",
    "Subject",
    "check_mapping",
    "inputs_of",
    "resolve_mapping",
]

log = logging.getLogger("sessile.claims")

#: Members at any level, levels of nesting, and bytes of the mapping as JSON.
MAX_MEMBERS = 64
MAX_DEPTH = 4
MAX_MAPPING_BYTES = 8192
#: A literal string or array, and a profile member's name.
MAX_LITERAL_BYTES = 512
MAX_FIELD_CHARS = 128
#: What the profile members of one token may weigh together; past it they are null.
MAX_PROFILE_BYTES = 4096

# Matched whole (fullmatch): with match, "$" would also pass a name ending in a newline.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
_INPUT = frozenset({"$input", "$type"})
_CUSTOM = frozenset({"$custom_claim"})

#: Claims a mapping may never set: registered ones (RFC 7519, RFC 9068, RFC 9449, OpenID
#: Connect), those sessile and Prelude give a meaning of their own (``sid``, ``scope``,
#: ``minted``, ``cc``, ``has_passkey``, the identity claims), and a challenge token's, so
#: that no access token can pass for one.
RESERVED_CLAIMS = frozenset(
    {
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
        "act",
        "may_act",
        "client_id",
        "auth_time",
        "acr",
        "amr",
        "nonce",
        "email",
        "email_verified",
        "phone_number",
        "phone_number_verified",
        "has_passkey",
        "challenge_id",
        "current_step",
        "steps",
        "scope_requested",
        "grant_mode",
        "pkce_challenge",
        "metadata",
    }
)


@dataclass(frozen=True)
class Subject:
    """What a mapping is resolved against: the user, and the session a token is for
    (none for a minted token)."""

    user_id: str
    profile: Mapping[str, Any]
    external_id: str | None = None
    email: str | None = None
    phone_number: str | None = None
    session_id: str | None = None
    ip: str | None = None
    country_code: str | None = None


@dataclass(frozen=True)
class _Input:
    types: frozenset[str]
    value: Callable[[Subject], Any]


#: ``$input`` names and the ``$type`` each accepts. ``user_id``, ``ip`` and
#: ``country_code`` are the guide's; the others are sessile's, for what it knows.
INPUTS: Mapping[str, _Input] = {
    "user_id": _Input(frozenset({"uuid", "string"}), lambda s: s.user_id),
    "session_id": _Input(frozenset({"string"}), lambda s: s.session_id),
    "ip": _Input(frozenset({"string"}), lambda s: s.ip),
    "country_code": _Input(frozenset({"string"}), lambda s: s.country_code),
    "external_id": _Input(frozenset({"string"}), lambda s: s.external_id),
    "email": _Input(frozenset({"string"}), lambda s: s.email),
    "phone_number": _Input(frozenset({"string"}), lambda s: s.phone_number),
}
#: Inputs read from the session's row (where the session was opened).
SESSION_INPUTS = frozenset({"ip", "country_code"})


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _check_operator(path: str, node: Mapping[str, Any]) -> None:
    if set(node) == _INPUT:
        name, kind = node["$input"], node["$type"]
        known = INPUTS.get(name) if isinstance(name, str) else None
        if known is None:
            raise BadRequest(f"{path}: $input is one of {', '.join(sorted(INPUTS))}.")
        if kind not in known.types:
            raise BadRequest(f"{path}: the $type of {name} is {' or '.join(sorted(known.types))}.")
    elif set(node) == _CUSTOM:
        field = node["$custom_claim"]
        if not isinstance(field, str) or not 0 < len(field) <= MAX_FIELD_CHARS:
            raise BadRequest(f"{path}: $custom_claim names a profile member (a string).")
    else:
        raise BadRequest(
            f'{path}: an object with $ members is {{"$input", "$type"}} or {{"$custom_claim"}}.'
        )


def _check_node(path: str, node: Any, depth: int, members: list[int]) -> None:
    if isinstance(node, dict):
        if any(isinstance(k, str) and k.startswith("$") for k in node):
            _check_operator(path, node)
            return
        if depth >= MAX_DEPTH:
            raise BadRequest(f"{path}: claims nest at most {MAX_DEPTH} levels.")
        _check_group(path, node, depth + 1, members)
    elif isinstance(node, list):
        if any(isinstance(item, dict | list) for item in node):
            raise BadRequest(f"{path}: an array holds strings, numbers, booleans or null.")
        for item in node:
            _check_literal(path, item)
        if _size(node) > MAX_LITERAL_BYTES:
            raise BadRequest(f"{path}: a literal is at most {MAX_LITERAL_BYTES} bytes.")
    else:
        _check_literal(path, node)


def _check_literal(path: str, value: Any) -> None:
    # Python's JSON reader takes NaN and Infinity; no other JWT reader would.
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest(f"{path}: a number must be finite.")
    if isinstance(value, str) and _size(value) > MAX_LITERAL_BYTES:
        raise BadRequest(f"{path}: a literal is at most {MAX_LITERAL_BYTES} bytes.")


def _check_group(prefix: str, group: Mapping[str, Any], depth: int, members: list[int]) -> None:
    for name, node in group.items():
        path = f"{prefix}.{name}" if prefix else name
        members[0] += 1
        if members[0] > MAX_MEMBERS:
            raise BadRequest(f"A mapping has at most {MAX_MEMBERS} members.")
        if not _NAME.fullmatch(name):
            raise BadRequest(f"{path!r} is not a claim name (letters, digits, _ . : -).")
        if depth == 1 and name in RESERVED_CLAIMS:
            raise BadRequest(f"{name!r} is a reserved claim: a mapping cannot set it.")
        _check_node(path, node, depth, members)


def check_mapping(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping if it is acceptable; otherwise ``bad_request`` naming what is not."""
    if _size(mapping) > MAX_MAPPING_BYTES:
        raise BadRequest(f"A mapping is at most {MAX_MAPPING_BYTES} bytes of JSON.")
    # Before anything echoes a part of it: a message holding one could not be sent.
    unstorable = unstorable_path(mapping)
    if unstorable is not None:
        raise BadRequest(f"{unstorable}: holds a NUL character or a lone surrogate.")
    _check_group("", mapping, 1, [0])
    return dict(mapping)


def inputs_of(mapping: Mapping[str, Any]) -> frozenset[str]:
    """Every ``$input`` a mapping names, at any level."""
    found: set[str] = set()
    for node in mapping.values():
        if isinstance(node, dict):
            if set(node) == _INPUT:
                found.add(node["$input"])
            elif not any(k.startswith("$") for k in node):
                found |= inputs_of(node)
    return frozenset(found)


class _Budget:
    """Bytes left for profile members in one token."""

    def __init__(self) -> None:
        self.left = MAX_PROFILE_BYTES

    def take(self, field: str, value: Any) -> Any:
        cost = _size(value)
        if cost > self.left:
            log.warning("custom claim left null: profile members too large", extra={"field": field})
            return None
        self.left -= cost
        return value


def _resolve(node: Any, subject: Subject, budget: _Budget) -> Any:
    if not isinstance(node, dict):
        return node
    if set(node) == _INPUT:
        known = INPUTS.get(node["$input"])
        return None if known is None else known.value(subject)
    if set(node) == _CUSTOM:
        field = node["$custom_claim"]
        return budget.take(field, subject.profile.get(field))
    return {name: _resolve(child, subject, budget) for name, child in node.items()}


def resolve_mapping(mapping: Mapping[str, Any], subject: Subject) -> dict[str, Any]:
    """The claims the mapping gives ``subject``. A reserved name is skipped here too, so a
    stored mapping that never went through ``check_mapping`` still cannot set one."""
    budget = _Budget()
    return {
        name: _resolve(node, subject, budget)
        for name, node in mapping.items()
        if name not in RESERVED_CLAIMS
    }
