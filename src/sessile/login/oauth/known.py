"""The providers Prelude names, and what sessile assumes of each unless told otherwise."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "KNOWN",
    "OIDC_SCOPES",
    "ProviderDefaults",
    "provider_label",
    "session_auth_method",
    "trusted_by_default",
]

OIDC_SCOPES = ("openid", "email", "profile")


@dataclass(frozen=True)
class ProviderDefaults:
    #: ``oidc`` (discovery and an ID token), ``github`` or ``facebook`` (OAuth 2.0 plus an API).
    kind: str
    issuer: str | None
    scopes: tuple[str, ...]
    #: The provider's name in messages to people ("link a Google account to yours").
    label: str = ""
    #: Whether the provider's word that an address is verified counts as a proof of it.
    trusted: bool = False


#: Prelude's provider names: the ones the management API configures. Okta has no default
#: issuer: each organisation has its own.
#:
#: Trusted by default: Google, Apple and Microsoft (whose ``email_verified`` sessile reads
#: only from ``xms_edov``) confirm an address before they vouch for it, and so does GitHub
#: for the verified primary address sessile takes. Not trusted: an Okta organisation's
#: administrators type its users' addresses, Facebook never says, and any other issuer is
#: one sessile knows nothing of.
KNOWN: dict[str, ProviderDefaults] = {
    "google": ProviderDefaults(
        "oidc", "https://accounts.google.com", OIDC_SCOPES, "Google", trusted=True
    ),
    "apple": ProviderDefaults(
        "oidc", "https://appleid.apple.com", ("openid", "email", "name"), "Apple", trusted=True
    ),
    "microsoft": ProviderDefaults(
        "oidc",
        "https://login.microsoftonline.com/common/v2.0",
        OIDC_SCOPES,
        "Microsoft",
        trusted=True,
    ),
    "okta": ProviderDefaults("oidc", None, OIDC_SCOPES, "Okta"),
    "github": ProviderDefaults("github", None, ("read:user", "user:email"), "GitHub", trusted=True),
    "facebook": ProviderDefaults("facebook", None, ("email", "public_profile"), "Facebook"),
}


def provider_label(name: str) -> str:
    """How a provider is named to people: its usual name, or the configured one."""
    known = KNOWN.get(name)
    return known.label if known is not None else name


def trusted_by_default(name: str) -> bool:
    """Whether ``name``'s verified addresses count as proven when nothing configures it."""
    known = KNOWN.get(name)
    return known is not None and known.trusted


def session_auth_method(provider: str) -> str:
    """The ``auth_method`` of the sessions a provider's logins make."""
    # The sessions column holds 20 characters; the known provider names all fit.
    return f"oauth_{provider}"[:20]
