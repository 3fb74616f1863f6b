"""The refresh cookie (DESIGN §4): ``__Host-`` name, HttpOnly, Secure, SameSite, no Domain."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response

from sessile.config import Settings

__all__ = [
    "REFRESH_HEADER",
    "REFRESH_MODE_HEADER",
    "VERIFICATION_HEADER",
    "clear_refresh",
    "clear_verification",
    "read_refresh",
    "read_verification",
    "set_refresh",
    "set_verification",
]

REFRESH_HEADER = "X-Refresh-Token"
REFRESH_EXPIRES_HEADER = "X-Refresh-Token-Expires-At"
#: A native client asks for header mode at login with ``X-Refresh-Token-Mode: header``.
REFRESH_MODE_HEADER = "X-Refresh-Token-Mode"


def wants_header_mode(request: Request) -> bool:
    return (
        REFRESH_HEADER.lower() in request.headers
        or request.headers.get(REFRESH_MODE_HEADER, "").lower() == "header"
    )


def read_refresh(request: Request, settings: Settings) -> str | None:
    """The refresh token from ``X-Refresh-Token`` (header mode) or the cookie."""
    return request.headers.get(REFRESH_HEADER) or request.cookies.get(settings.cookie_name)


VERIFICATION_HEADER = "X-Verification-Token"


def _cookie(settings: Settings, value: str, max_age: int, name: str | None = None) -> str:
    parts = [f"{name or settings.cookie_name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
    if settings.cookie_secure:
        parts.append("Secure")
    parts.append(f"SameSite={settings.cookie_samesite.capitalize()}")
    return "; ".join(parts)


def set_refresh(
    request: Request,
    response: Response,
    settings: Settings,
    *,
    token: str,
    expires_at: float,
    now: float,
) -> None:
    """Hand the new refresh token back the way the client sent (or asked for) it."""
    if wants_header_mode(request):
        response.headers[REFRESH_HEADER] = token
        response.headers[REFRESH_EXPIRES_HEADER] = str(int(expires_at))
        return
    max_age = max(0, math.floor(expires_at - now))
    response.headers.append("Set-Cookie", _cookie(settings, token, max_age))


def clear_refresh(response: Response, settings: Settings) -> None:
    response.headers.append("Set-Cookie", _cookie(settings, "", 0))


def set_verification(response: Response, settings: Settings, token: str) -> None:
    """The OTP verification token: a cookie for browsers, a header for everyone else."""
    response.headers.append(
        "Set-Cookie", _cookie(settings, token, settings.otp_ttl, settings.otp_cookie_name)
    )
    response.headers[VERIFICATION_HEADER] = token


def read_verification(request: Request, settings: Settings) -> str | None:
    return request.headers.get(VERIFICATION_HEADER) or request.cookies.get(settings.otp_cookie_name)


def clear_verification(response: Response, settings: Settings) -> None:
    response.headers.append("Set-Cookie", _cookie(settings, "", 0, settings.otp_cookie_name))
