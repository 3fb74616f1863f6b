"""PKCE (RFC 7636) with S256 only: a client proves it started the login it finishes."""

from __future__ import annotations

import hmac
import re

from authlib.oauth2.rfc7636 import create_s256_code_challenge

__all__ = ["is_challenge", "verifier_matches"]

#: base64url of a SHA-256 digest, unpadded.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: RFC 7636 §4.1: 43 to 128 unreserved characters.
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def is_challenge(value: str) -> bool:
    return bool(_CHALLENGE.match(value))


def verifier_matches(code_verifier: str | None, code_challenge: str) -> bool:
    if not code_verifier or not _VERIFIER.match(code_verifier):
        return False
    return hmac.compare_digest(create_s256_code_challenge(code_verifier), code_challenge)
