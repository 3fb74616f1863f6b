"""OpenID Connect providers found by discovery (Google, Apple, Microsoft, Okta, any issuer).

The ID token is checked by Authlib: signature by the issuer's JWKS, ``iss``, ``aud``,
``exp``, ``iat`` and ``nonce`` (OpenID Connect Core §3.1.3.7). Whether the e-mail address
is verified follows each provider's rules (:func:`email_verified`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from sessile.login.oauth.authlib_app import TIMEOUT, AuthlibApp
from sessile.login.oauth.profile import ProviderError, ProviderProfile, asserted_true, text_claim
from sessile.oauth_config import OAuthProviderSettings

__all__ = ["OidcProvider", "email_verified"]

log = logging.getLogger("sessile.login")

#: Clock skew allowed on ``exp``, ``iat`` and ``nbf`` of ID tokens.
LEEWAY = 60
_MICROSOFT_TENANT = "{tenantid}"


def email_verified(provider: str, claims: Mapping[str, Any]) -> bool:
    """Whether the provider vouches for the address.

    Microsoft's ``email`` is whatever the tenant's admin typed, so only its
    ``xms_edov`` claim (the tenant owns the e-mail's domain) counts there.
    """
    if provider == "microsoft":
        return asserted_true(claims.get("xms_edov"))
    return asserted_true(claims.get("email_verified"))


class OidcProvider:
    def __init__(
        self, name: str, settings: OAuthProviderSettings, *, issuer: str, scopes: list[str]
    ):
        self.name = name
        self._settings = settings
        self._issuer = issuer
        secret = settings.client_secret.get_secret_value() if settings.client_secret else None
        self._apple_key = (
            ECKey.import_key(settings.private_key.get_secret_value())
            if settings.private_key
            else None
        )
        if self._apple_key is not None:
            auth_method = "client_secret_post"  # Apple takes its client-secret JWT in the body
        elif secret is None:
            auth_method = "none"
        else:
            auth_method = "client_secret_basic"
        self._app = AuthlibApp(
            name,
            client_id=settings.client_id,
            client_secret=secret,
            server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": " ".join(scopes),
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": auth_method,
                "timeout": TIMEOUT,
            },
        )
        # Apple posts the answer back when it is asked for the name or e-mail address.
        self._form_post = name == "apple" and any(s in scopes for s in ("name", "email"))

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str | None, code_verifier: str
    ) -> str:
        extra: dict[str, str] = {"response_mode": "form_post"} if self._form_post else {}
        try:
            made = await self._app.create_authorization_url(
                redirect_uri, state=state, nonce=nonce, code_verifier=code_verifier, **extra
            )
        except (httpx.HTTPError, ValueError, KeyError, RuntimeError) as exc:
            log.warning("provider discovery failed", extra={"provider": self.name})
            raise ProviderError(
                "temporarily_unavailable", "The provider can't be reached."
            ) from exc
        return str(made["url"])

    def _client_secret(self) -> str | None:
        """Apple's client secret: a short-lived ES256 JWT from the team's key."""
        if self._apple_key is None:
            return self._app.client_secret  # type: ignore[no-any-return]
        now = int(time.time())
        claims = {
            "iss": self._settings.team_id,
            "sub": self._settings.client_id,
            "aud": self._issuer,
            "iat": now,
            "exp": now + 300,
        }
        return jwt.encode({"alg": "ES256", "kid": self._settings.key_id}, claims, self._apple_key)

    def _claims_options(self) -> dict[str, Any]:
        iss: dict[str, Any] = {"essential": True}
        if _MICROSOFT_TENANT in self._issuer_in_metadata():
            template = self._issuer_in_metadata()
            iss["validate"] = lambda claims, value: (
                value == template.replace(_MICROSOFT_TENANT, str(claims.get("tid", "")))
            )
        else:
            iss["value"] = self._issuer_in_metadata()
        return {
            "iss": iss,
            "aud": {"essential": True, "value": self._settings.client_id},
            "sub": {"essential": True},
        }

    def _issuer_in_metadata(self) -> str:
        return str(self._app.server_metadata.get("issuer") or self._issuer)

    async def accepts_issuer(self, iss: str | None) -> bool:
        try:
            await self._app.load_server_metadata()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(
                "temporarily_unavailable", "The provider can't be reached."
            ) from exc
        if iss is None:
            # RFC 9207 §2.4: a provider that says it sends ``iss`` must have sent it; an
            # answer without one was made elsewhere (a mix-up) or stripped on the way.
            advertised = self._app.server_metadata.get(
                "authorization_response_iss_parameter_supported"
            )
            return advertised is not True
        expected = self._issuer_in_metadata()
        return _MICROSOFT_TENANT in expected or iss == expected

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
            self._app.client_secret = self._client_secret()
            token = await self._app.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
            )
        except OAuthError as exc:
            raise ProviderError(
                "access_denied", f"The provider refused the code: {exc.error}"
            ) from exc
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ProviderError(
                "temporarily_unavailable", "The provider can't be reached."
            ) from exc
        if "id_token" not in token:
            raise ProviderError("invalid_id_token", "The provider sent no ID token.")
        try:
            claims = dict(
                await self._app.parse_id_token(
                    token, nonce=nonce, claims_options=self._claims_options(), leeway=LEEWAY
                )
            )
        except (JoseError, ValueError) as exc:
            log.warning(
                "ID token rejected", extra={"provider": self.name, "reason": type(exc).__name__}
            )
            raise ProviderError("invalid_id_token", f"The ID token was rejected: {exc}") from exc
        if not text_claim(claims, "email"):
            claims = await self._with_userinfo(token, claims)
        return self._profile(claims, form)

    async def _with_userinfo(self, token: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        """Providers that keep the e-mail out of the ID token give it at ``userinfo``."""
        if not self._app.server_metadata.get("userinfo_endpoint"):
            return claims
        try:
            info = dict(await self._app.userinfo(token=token))
        except (OAuthError, httpx.HTTPError, ValueError) as exc:
            raise ProviderError(
                "temporarily_unavailable", "The provider can't be reached."
            ) from exc
        if info.get("sub") != claims["sub"]:  # OpenID Connect Core §5.3.2
            raise ProviderError("invalid_id_token", "userinfo names another subject.")
        return {**info, **claims}

    def _profile(self, claims: Mapping[str, Any], form: Mapping[str, str]) -> ProviderProfile:
        given, family = (
            text_claim(dict(claims), "given_name"),
            text_claim(dict(claims), "family_name"),
        )
        if self.name == "apple" and form.get("user"):
            given, family = _apple_name(form["user"], given, family)
        name = text_claim(dict(claims), "name") or " ".join(p for p in (given, family) if p) or None
        email = text_claim(dict(claims), "email", 320)
        return ProviderProfile(
            provider=self.name,
            subject=str(claims["sub"])[:255],
            email=email,
            email_verified=email is not None and email_verified(self.name, claims),
            name=name,
            given_name=given,
            family_name=family,
            picture=text_claim(dict(claims), "picture", 2000),
        )


def _apple_name(raw: str, given: str | None, family: str | None) -> tuple[str | None, str | None]:
    """Apple sends the name once, in the form's ``user`` JSON, never in the ID token."""
    try:
        name = json.loads(raw).get("name") or {}
    except (ValueError, AttributeError):
        return given, family
    first, last = name.get("firstName"), name.get("lastName")
    return (
        first[:200] if isinstance(first, str) and first else given,
        last[:200] if isinstance(last, str) and last else family,
    )
