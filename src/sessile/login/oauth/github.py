"""GitHub: plain OAuth 2.0, then its ``/user`` and ``/user/emails`` API.

GitHub has no ID token. The address counts as verified only when ``/user/emails`` marks the
primary address ``verified``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError

from sessile.login.oauth.authlib_app import TIMEOUT, AuthlibApp
from sessile.login.oauth.profile import ProviderError, ProviderProfile, text_claim
from sessile.oauth_config import OAuthProviderSettings

__all__ = ["GitHubProvider"]

AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
TOKEN_URL = "https://github.com/login/oauth/access_token"
API_URL = "https://api.github.com/"


class GitHubProvider:
    def __init__(self, name: str, settings: OAuthProviderSettings, *, scopes: list[str]):
        self.name = name
        self._app = AuthlibApp(
            name,
            client_id=settings.client_id,
            client_secret=(
                settings.client_secret.get_secret_value() if settings.client_secret else None
            ),
            authorize_url=settings.authorize_url or AUTHORIZE_URL,
            access_token_url=settings.token_url or TOKEN_URL,
            api_base_url=(settings.api_url or API_URL).rstrip("/") + "/",
            client_kwargs={
                "scope": " ".join(scopes),
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
        return True  # GitHub names no issuer; its token is only good at its own API.

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
            raise ProviderError("access_denied", f"GitHub refused the code: {exc.error}") from exc
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ProviderError("temporarily_unavailable", "GitHub can't be reached.") from exc
        if not token.get("access_token"):
            raise ProviderError("access_denied", "GitHub gave no access token.")
        user = await self._get(token, "user")
        emails = await self._get(token, "user/emails")
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise ProviderError("server_error", "GitHub's user answer has no id.")
        email, verified = _primary_email(emails)
        return ProviderProfile(
            provider=self.name,
            subject=str(user["id"]),
            email=email,
            email_verified=verified,
            name=text_claim(user, "name") or text_claim(user, "login"),
            picture=text_claim(user, "avatar_url", 2000),
        )

    async def _get(self, token: dict[str, Any], path: str) -> Any:
        try:
            response = await self._app.get(
                path, token=token, headers={"Accept": "application/vnd.github+json"}
            )
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(
                "temporarily_unavailable", "GitHub's API can't be reached."
            ) from exc


def _primary_email(emails: Any) -> tuple[str | None, bool]:
    """The primary address, and whether GitHub has verified it."""
    if not isinstance(emails, list):
        return None, False
    for entry in emails:
        if isinstance(entry, dict) and entry.get("primary") is True:
            email = text_claim(entry, "email", 320)
            return email, email is not None and entry.get("verified") is True
    return None, False
