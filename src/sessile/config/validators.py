"""The checks of single setting values, each run by :class:`~sessile.config.settings.Settings`
on the settings it names: URLs, origins, networks, algorithms, rates, message templates and
the secret key. Each takes the value, returns it (perhaps normalised) or raises ValueError
with a message that says what a good value looks like.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from sessile import oauth_config
from sessile.oauth_config import OAuthProviderSettings

__all__ = [
    "MIN_SECRET_KEY_BYTES",
    "check_algorithms",
    "check_breached_url",
    "check_database_url",
    "check_geoip",
    "check_origins",
    "check_providers",
    "check_proxies",
    "check_public_url",
    "check_rate",
    "check_redirect_uris",
    "check_secret_key",
    "check_template",
    "split_commas",
]

#: The least length of ``SESSILE_SECRET_KEY``, in bytes of UTF-8.
MIN_SECRET_KEY_BYTES = 32


def check_providers(value: dict[str, OAuthProviderSettings]) -> dict[str, OAuthProviderSettings]:
    for name in value:
        if not oauth_config.PROVIDER_NAME.match(name):
            raise ValueError(f"{name!r} is not a provider name like google or my_idp")
    return value


def check_redirect_uris(value: list[str]) -> list[str]:
    for uri in value:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError(f"{uri!r} is not an absolute http(s) URL without a fragment")
    return value


def split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def check_breached_url(value: str | None) -> str | None:
    if value and urlsplit(value).scheme not in ("http", "https"):
        raise ValueError("must be an http(s) URL such as https://api.pwnedpasswords.com/range")
    return value or None


def check_public_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL such as https://auth.example.com")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or fragment")
    return value.rstrip("/")


def check_origins(value: list[str]) -> list[str]:
    for origin in value:
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
    return [origin.rstrip("/") for origin in value]


def check_proxies(value: list[str]) -> list[str]:
    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ValueError(f"{network!r} is not an IP address or CIDR network") from exc
    return value


def check_algorithms(value: list[str]) -> list[str]:
    allowed = {"ES256", "ES384", "ES512", "EdDSA", "PS256", "RS256"}
    if not value:
        raise ValueError("must name at least one algorithm")
    for alg in value:
        if alg not in allowed:
            raise ValueError(f"{alg!r} is not allowed; choose from {', '.join(sorted(allowed))}")
    return value


def check_database_url(value: str) -> str:
    if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return value


def check_rate(value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a rate such as '5/10 minutes'") from exc
    return value


def check_template(value: str) -> str:
    try:
        value.format(code="0", app_name="x", minutes=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"unusable template ({exc}); use {{code}}, {{app_name}}, {{minutes}}"
        ) from exc
    return value


#: What the notice templates may name (``sessile.notices``, the link code's message).
NOTICE_PLACEHOLDERS = {
    "code": "0",
    "app_name": "x",
    "minutes": 1,
    "identifier": "x",
    "provider": "x",
    "link": "x",
    "hours": 1,
}


def check_notice_template(value: str) -> str:
    try:
        value.format(**NOTICE_PLACEHOLDERS)
    except (KeyError, IndexError, ValueError) as exc:
        names = ", ".join(f"{{{name}}}" for name in NOTICE_PLACEHOLDERS)
        raise ValueError(f"unusable template ({exc}); use {names}") from exc
    return value


def check_secret_key(value: SecretStr | None) -> SecretStr | None:
    # HKDF derives every at-rest key from it; SecretBox refuses less than 256 bits.
    # An empty value means "unset": the generated file is used.
    raw = value.get_secret_value().encode() if value is not None else b""
    if raw and len(raw) < MIN_SECRET_KEY_BYTES:
        raise ValueError(
            f"must be at least {MIN_SECRET_KEY_BYTES} bytes; make one with"
            " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    return value


def check_geoip(value: Path | None) -> Path | None:
    if value is not None and not value.is_file():
        raise ValueError(f"{value} is not a readable file")
    return value


#: Step names sessile used before Prelude's, read as Prelude's.
_OLDER_STEP_NAMES = {
    "email_otp": "verify_email",
    "sms_otp": "verify_sms",
    "password": "verify_password",
}


def step_names(value: Any) -> Any:
    """``stepup_scopes`` with the older step names (``email_otp``…) read as Prelude's."""
    if not isinstance(value, dict):
        return value
    return {
        scope: [_OLDER_STEP_NAMES.get(s, s) for s in steps] if isinstance(steps, list) else steps
        for scope, steps in value.items()
    }


def check_web_url(value: str | None) -> str | None:
    """An absolute http(s) URL, or None."""
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("must be an absolute http(s) URL")
    return value
