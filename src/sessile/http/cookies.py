"""The refresh cookie (DESIGN §4): ``__Host-`` name, HttpOnly, Secure, SameSite, no Domain."""

from __future__ import annotations

import math
import time

from starlette.requests import Request, cookie_parser
from starlette.responses import Response

from sessile.config import Settings

__all__ = [
    "REFRESH_HEADER",
    "REFRESH_MODE_HEADER",
    "VERIFICATION_HEADER",
    "clear_refresh",
    "clear_verification",
    "header_mode",
    "presented_refresh",
    "read_refresh",
    "read_verification",
    "refresh_headers",
    "set_refresh",
    "set_verification",
]

REFRESH_HEADER = "X-Refresh-Token"
REFRESH_EXPIRES_HEADER = "X-Refresh-Token-Expires-At"
#: A native client asks for header mode at login with ``X-Refresh-Token-Mode: header``.
REFRESH_MODE_HEADER = "X-Refresh-Token-Mode"


def wants_header_mode(request: Request) -> bool:
    """Header mode for a client that sends its token, asks for it, or is Prelude's Android
    SDK (the one client that sends ``X-Device-Id``): it keeps the token it reads from
    ``X-Refresh-Token`` and never holds a cookie."""
    return (
        header_mode(request.headers.get(REFRESH_HEADER), request.headers.get(REFRESH_MODE_HEADER))
        or DEVICE_ID_HEADER in request.headers
    )


def header_mode(refresh_header: str | None, mode_header: str | None) -> bool:
    """Whether the new refresh token goes back in headers: the client sent its token in
    ``X-Refresh-Token``, or asked with ``X-Refresh-Token-Mode: header``."""
    return refresh_header is not None or (mode_header or "").lower() == "header"


def read_refresh(request: Request, settings: Settings) -> str | None:
    """The refresh token from ``X-Refresh-Token`` (header mode) or the cookie."""
    return presented_refresh(
        request.headers.get(REFRESH_HEADER), request.headers.get("cookie"), settings
    )


def presented_refresh(
    refresh_header: str | None, cookie_header: str | None, settings: Settings
) -> str | None:
    """The refresh token from the first ``X-Refresh-Token`` header's value, else from the
    refresh cookie in the first ``Cookie`` header's value."""
    if refresh_header:
        return refresh_header
    return cookie_parser(cookie_header).get(settings.cookie_name) if cookie_header else None


VERIFICATION_HEADER = "X-Verification-Token"
#: Sent by Prelude's Android SDK on every request (PRELUDE-API §1.3).
DEVICE_ID_HEADER = "x-device-id"


def _cookie(settings: Settings, value: str, max_age: int, name: str | None = None) -> str:
    parts = [f"{name or settings.cookie_name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
    if settings.cookie_secure:
        parts.append("Secure")
    parts.append(f"SameSite={settings.cookie_samesite.capitalize()}")
    return "; ".join(parts)


def refresh_headers(
    settings: Settings, *, header_mode: bool, token: str, expires_at: float, now: float
) -> list[tuple[str, str]]:
    """The response headers that hand back a new refresh token: ``X-Refresh-Token`` and
    its expiry in header mode, else the cookie."""
    if header_mode:
        # ISO 8601 (RFC 3339), as Prelude's clients read it.
        ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))
        return [(REFRESH_HEADER, token), (REFRESH_EXPIRES_HEADER, ends)]
    max_age = max(0, math.floor(expires_at - now))
    return [("Set-Cookie", _cookie(settings, token, max_age))]


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
    for name, value in refresh_headers(
        settings,
        header_mode=wants_header_mode(request),
        token=token,
        expires_at=expires_at,
        now=now,
    ):
        response.headers.append(name, value)


def clear_refresh(response: Response, settings: Settings) -> None:
    response.headers.append("Set-Cookie", _cookie(settings, "", 0))


def set_verification(request: Request, response: Response, settings: Settings, token: str) -> None:
    """The OTP verification token: always the HttpOnly cookie, and ``X-Verification-Token``
    too for a client that reads headers (:func:`reads_verification_header`)."""
    response.headers.append(
        "Set-Cookie", _cookie(settings, token, settings.otp_ttl, settings.otp_cookie_name)
    )
    if reads_verification_header(request):
        response.headers[VERIFICATION_HEADER] = token


def reads_verification_header(request: Request) -> bool:
    """Whether ``X-Verification-Token`` goes back to this client: one in header mode (the
    rule of the refresh token: :func:`wants_header_mode`), or one that is no browser.

    A browser holds the HttpOnly cookie, and a header would hand the token to any script
    on the page. A browser is told by what no page's script can forge or remove
    (forbidden header names): ``Origin``, sent on every POST, and ``Sec-Fetch-*``, sent on
    every request by current browsers. A native client or a script sends neither, and
    Prelude's newer clients read the header (PRELUDE-API §1.2). The origin check
    (:mod:`sessile.http.origins`) tells them apart the same way.
    """
    return wants_header_mode(request) or not _from_browser(request)


def _from_browser(request: Request) -> bool:
    return any(name == "origin" or name.startswith("sec-fetch-") for name in request.headers)


def read_verification(request: Request, settings: Settings) -> str | None:
    return request.headers.get(VERIFICATION_HEADER) or request.cookies.get(settings.otp_cookie_name)


def clear_verification(response: Response, settings: Settings) -> None:
    response.headers.append("Set-Cookie", _cookie(settings, "", 0, settings.otp_cookie_name))
