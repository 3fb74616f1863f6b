"""Authlib's async OAuth 2.0 / OpenID Connect client (httpx), outside any web framework.

Authlib's framework integrations keep ``state`` in a server-side web session; sessile keeps
it in its own table (``store/oauth_states.py``), so it uses the same mixins without one.
Authlib does discovery, PKCE S256, the code exchange, the JWKS and the ID-token checks.
"""

from __future__ import annotations

import warnings
from typing import Any

from authlib.integrations.base_client import BaseApp
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin

with warnings.catch_warnings():
    # Authlib would rather run on its own ``httpx2`` fork; on httpx it warns once at import.
    # sessile uses httpx everywhere, and Authlib's httpx client is the tested one.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

__all__ = ["AuthlibApp"]

#: Seconds for each request to a provider.
TIMEOUT = 10.0


class AuthlibApp(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):  # type: ignore[misc]
    client_cls = AsyncOAuth2Client

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(framework=None, name=name, **kwargs)
