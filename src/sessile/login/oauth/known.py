"""The providers Prelude names, and what sessile assumes of each unless told otherwise."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KNOWN", "OIDC_SCOPES", "ProviderDefaults"]

OIDC_SCOPES = ("openid", "email", "profile")


@dataclass(frozen=True)
class ProviderDefaults:
    #: ``oidc`` (discovery and an ID token), ``github`` or ``facebook`` (OAuth 2.0 plus an API).
    kind: str
    issuer: str | None
    scopes: tuple[str, ...]


#: Prelude's provider names: the ones the management API configures. Okta has no default
#: issuer: each organisation has its own.
KNOWN: dict[str, ProviderDefaults] = {
    "google": ProviderDefaults("oidc", "https://accounts.google.com", OIDC_SCOPES),
    "apple": ProviderDefaults("oidc", "https://appleid.apple.com", ("openid", "email", "name")),
    "microsoft": ProviderDefaults(
        "oidc", "https://login.microsoftonline.com/common/v2.0", OIDC_SCOPES
    ),
    "okta": ProviderDefaults("oidc", None, OIDC_SCOPES),
    "github": ProviderDefaults("github", None, ("read:user", "user:email")),
    "facebook": ProviderDefaults("facebook", None, ("email", "public_profile")),
}
