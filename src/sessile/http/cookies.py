"""The refresh cookie (DESIGN §4): ``__Host-`` name, HttpOnly, Secure, SameSite, no Domain."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response

from sessile.config import Settings

__all__ = ["REFRESH_HEADER", "REFRESH_MODE_HEADER", "clear_refresh", "read_refresh", "set_refresh"]

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


def _cookie(settings: Settings, value: str, max_age: int) -> str:
    parts = [f"{settings.cookie_name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
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
