"""A DPoP session client for Python scripts and services (header-mode refresh tokens)."""

from sessile.client._async import AsyncSessionClient
from sessile.client._errors import SessionClientError
from sessile.client._key import DPoPKey
from sessile.client._protocol import Tokens
from sessile.client._sync import SessionClient

__all__ = ["AsyncSessionClient", "DPoPKey", "SessionClient", "SessionClientError", "Tokens"]
