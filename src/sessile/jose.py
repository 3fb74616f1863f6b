"""What sessile's token checks share: the JWS algorithm allow-list, the protected-header
checks (``typ``, ``alg``, ``kid``), the Bearer scheme (RFC 6750 §2.1) and the
``WWW-Authenticate`` challenge (RFC 6750 §3, RFC 9449 §7.1).

Access tokens (``sessile.access_tokens``), DPoP proofs (``sessile.dpop.proof``) and the
backend verifier (``sessile.verify``) all use these. Plain values only: each caller turns
a :class:`HeaderError` or :class:`BearerError` into its own error.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "BearerError",
    "HeaderError",
    "bearer_token",
    "challenge",
    "check_header",
    "quoted",
]

#: Every signature algorithm sessile may ever allow. ``none`` and the HMAC family are
#: never among them: a verifier holds only public keys, a public key used as an HMAC
#: secret is a forgery kit, and DPoP proofs are asymmetric only (RFC 9449 §4.2).
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
        "Ed25519",
        "PS256",
        "PS384",
        "PS512",
        "RS256",
        "RS384",
        "RS512",
    }
)


class HeaderError(ValueError):
    """A protected header that fails a check; ``member`` names which."""

    def __init__(self, member: Literal["typ", "alg", "kid"]) -> None:
        super().__init__(member)
        self.member = member


def check_header(
    header: Mapping[str, Any],
    *,
    types: Collection[str],
    algorithms: Collection[str],
    media_type: bool = False,
    kid: bool = False,
) -> str:
    """Check ``typ`` (one of ``types``), then ``alg`` (allowed and asymmetric), then, with
    ``kid``, a key id; return the ``alg``.

    With ``media_type``, ``typ`` compares as a media type (RFC 7515 §4.1.9): without case,
    and with or without its ``application/`` prefix. Without it, exactly.
    """
    typ = header.get("typ")
    if not isinstance(typ, str):
        raise HeaderError("typ")
    if media_type:
        typ = typ.lower().removeprefix("application/")
    if typ not in types:
        raise HeaderError("typ")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms or alg not in ASYMMETRIC_ALGORITHMS:
        raise HeaderError("alg")
    if kid:
        key_id = header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise HeaderError("kid")
    return alg


class BearerError(ValueError):
    """An ``Authorization`` header without Bearer credentials (``missing``), or with
    Bearer credentials that are not one token (``malformed``)."""

    def __init__(self, reason: Literal["missing", "malformed"]) -> None:
        super().__init__(reason)
        self.reason = reason


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    if not authorization:
        raise BearerError("missing")
    scheme, _, token = authorization.strip().partition(" ")
    # The auth scheme is case-insensitive (RFC 9110 §11.1); another scheme is no Bearer token.
    if scheme.lower() != "bearer":
        raise BearerError("missing")
    token = token.strip()
    if not token or " " in token:
        raise BearerError("malformed")
    return token


def quoted(value: str) -> str:
    """``value`` made safe inside a quoted-string: RFC 6750 §3 allows printable ASCII
    except ``"`` and ``\\``; anything else is left out."""
    return "".join(c for c in value if " " <= c <= "~" and c not in '"\\')


def challenge(scheme: Literal["Bearer", "DPoP"], **params: str | None) -> str:
    """A ``WWW-Authenticate`` value: the scheme and its quoted parameters, None ones left
    out, in the order given."""
    pairs = [f'{name}="{quoted(value)}"' for name, value in params.items() if value is not None]
    return f"{scheme} {', '.join(pairs)}" if pairs else scheme
