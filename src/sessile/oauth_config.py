"""Settings of social login (``[oauth.<provider>]`` in TOML, ``SESSILE_OAUTH_<PROVIDER>_<FIELD>``
in the environment).

pydantic-settings reads the TOML table as a nested object; the environment names can't be
told apart from other ``SESSILE_OAUTH_*`` settings by a delimiter, so :func:`from_environ`
reads them by their known field suffixes instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["PROVIDER_NAME", "OAuthProviderSettings", "from_environ"]

#: A provider name as it appears in routes and setting names.
PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_PREFIX = "SESSILE_OAUTH_"


class OAuthProviderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1, max_length=500)
    client_secret: SecretStr | None = None
    #: The OpenID Connect issuer to discover; points any provider name at another issuer.
    issuer: str | None = None
    scopes: list[str] | None = None
    enabled: bool = True
    #: ``oidc`` (by discovery), ``github`` (OAuth 2.0 plus GitHub's user and emails API) or
    #: ``facebook`` (OAuth 2.0 plus the Graph API's ``/me``).
    kind: Literal["oidc", "github", "facebook"] | None = None
    #: Apple: the client secret is a JWT signed with this key (PEM, ES256).
    team_id: str | None = None
    key_id: str | None = None
    private_key: SecretStr | None = None
    #: GitHub or Facebook (or a server of its shape): where its authorize, token and API
    #: endpoints are.
    authorize_url: str | None = None
    token_url: str | None = None
    api_url: str | None = None
    #: Whether the provider's word that an address is verified proves it (joins the
    #: account holding it, or makes a user holding it proven). Unset: Google, Apple,
    #: Microsoft and GitHub are trusted, any other provider is not (login/oauth/known.py).
    trust_email_verified: bool | None = None

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [s for s in re.split(r"[\s,]+", value) if s]
        return value

    @field_validator("issuer", "authorize_url", "token_url", "api_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL")
        return value

    @model_validator(mode="after")
    def _check_apple_key(self) -> OAuthProviderSettings:
        """A client-secret key is checked at start, not at someone's first sign-in."""
        if self.private_key is None:
            return self
        if not (self.team_id and self.key_id):
            raise ValueError("private_key needs team_id and key_id")
        try:
            key = ECKey.import_key(self.private_key.get_secret_value())
        except (JoseError, ValueError, TypeError) as exc:
            raise ValueError("private_key is not a PEM EC private key") from exc
        if not key.is_private or key.curve_name != "P-256":
            raise ValueError("private_key must be a P-256 private key (ES256)")
        return self


_FIELDS = sorted(OAuthProviderSettings.model_fields, key=len, reverse=True)


def from_environ(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``SESSILE_OAUTH_GOOGLE_CLIENT_ID=…`` → ``{"google": {"client_id": "…"}}``."""
    found: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        upper = name.upper()
        if not upper.startswith(_PREFIX):
            continue
        rest = upper[len(_PREFIX) :]
        for field in _FIELDS:
            suffix = "_" + field.upper()
            if rest.endswith(suffix) and len(rest) > len(suffix):
                provider = rest[: -len(suffix)].lower()
                found.setdefault(provider, {})[field] = value
                break
    return found
