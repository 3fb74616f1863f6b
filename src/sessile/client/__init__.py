"""A DPoP session client for Python scripts and services (header-mode refresh tokens)."""

from sessile.client._errors import SessionClientError
from sessile.client._key import DPoPKey
from sessile.client._sync import SessionClient, Tokens

__all__ = ["DPoPKey", "SessionClient", "SessionClientError", "Tokens"]
