"""Facebook Login: OAuth 2.0 (RFC 6749 §4.1, with PKCE), then the Graph API's
``/me?fields=id,name,email``.

Facebook has no ID token, and its Graph API says nothing about whether the address was
confirmed, so the address never counts as verified: it links to an existing account only
after a code proves it (``accounts.py``). Endpoints are Facebook's unversioned ones, which
follow the Graph API version set on the app. Each API call carries ``appsecret_proof``
(HMAC-SHA256 of the access token under the app secret), which Facebook requires when the
app's "Require App Secret" switch is on.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError

from sessile.login.oauth.authlib_app import TIMEOUT, AuthlibApp
from sessile.login.oauth.profile import ProviderError, ProviderProfile, text_claim
from sessile.oauth_config import OAuthProviderSettings

__all__ = ["FacebookProvider"]

AUTHORIZE_URL = "https://www.facebook.com/dialog/oauth"
TOKEN_URL = "https://graph.facebook.com/oauth/access_token"
API_URL = "https://graph.facebook.com/"
_FIELDS = "id,name,email"


class FacebookProvider:
    def __init__(self, name: str, settings: OAuthProviderSettings, *, scopes: list[str]):
        self.name = name
        self._secret = settings.client_secret.get_secret_value() if settings.client_secret else None
        self._app = AuthlibApp(
            name,
            client_id=settings.client_id,
            client_secret=self._secret,
            authorize_url=settings.authorize_url or AUTHORIZE_URL,
            access_token_url=settings.token_url or TOKEN_URL,
            api_base_url=(settings.api_url or API_URL).rstrip("/") + "/",
            client_kwargs={
                # Facebook takes a comma-separated scope list.
                "scope": ",".join(scopes),
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_post",
                "timeout": TIMEOUT,
            },
        )

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str | None, code_verifier: str
    ) -> str:
        made = await self._app.create_authorization_url(
            redirect_uri, state=state, code_verifier=code_verifier
        )
        return str(made["url"])

    async def accepts_issuer(self, iss: str | None) -> bool:
        return True  # Facebook names no issuer; its token is only good at its own API.

    async def fetch_profile(
        self,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        nonce: str | None,
        form: Mapping[str, str],
    ) -> ProviderProfile:
        try:
            token = await self._app.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
            )
        except OAuthError as exc:
            raise ProviderError("access_denied", f"Facebook refused the code: {exc.error}") from exc
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ProviderError("temporarily_unavailable", "Facebook can't be reached.") from exc
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ProviderError("access_denied", "Facebook gave no access token.")
        me = await self._me(token, access_token)
        subject = me.get("id") if isinstance(me, dict) else None
        if not isinstance(subject, str) or not subject:
            raise ProviderError("server_error", "Facebook's /me answer has no id.")
        return ProviderProfile(
            provider=self.name,
            subject=subject[:255],
            email=text_claim(me, "email", 320),
            email_verified=False,
            name=text_claim(me, "name"),
        )

    async def _me(self, token: dict[str, Any], access_token: str) -> Any:
        params = {"fields": _FIELDS}
        if self._secret:
            params["appsecret_proof"] = hmac.new(
                self._secret.encode(), access_token.encode(), hashlib.sha256
            ).hexdigest()
        try:
            response = await self._app.get("me", token=token, params=params)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(
                "temporarily_unavailable", "Facebook's Graph API can't be reached."
            ) from exc
