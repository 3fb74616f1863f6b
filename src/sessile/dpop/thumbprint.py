"""JWK thumbprints, RFC 7638 §3 (SHA-256, base64url): the ``jkt`` a session is bound to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joserfc import jwk
from joserfc.errors import JoseError

__all__ = ["jwk_thumbprint"]


def jwk_thumbprint(public_jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK, over its required members only.

    Raises :class:`ValueError` when the JWK is not a key joserfc can import.
    """
    try:
        key = jwk.import_key(dict(public_jwk))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a usable JWK: {exc}") from exc
    return key.thumbprint()
