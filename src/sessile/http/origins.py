"""Cross-site calls to the frontend API are refused (CSRF defence for the cookie routes).

The refresh and verification cookies are ``SameSite=Strict`` by default, but an operator
may relax that, and a same-site page on another origin still sends them. So every
state-changing call under ``/v1/session/`` must come from the public URL's own origin or
a configured CORS origin: its ``Origin`` header is checked, or, when a browser sent none,
its ``Sec-Fetch-Site``. A request with neither header comes from no browser (a script, a
native client) and carries no ambient credentials a third party could borrow.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import Scope

__all__ = ["OriginCheck", "origin_of"]

_PREFIX = "/v1/session/"
#: The social-login callback comes from the provider's page by design (Apple posts it):
#: its single-use ``state``, bound to the browser that started the login, guards it.
_CALLBACK = ("/v1/session/login/oauth/", "/callback")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ``Sec-Fetch-Site`` values that prove the request came from this very origin (or a user).
_LOCAL_FETCH = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """The RFC 6454 serialisation of ``url``'s origin (default port left out), or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


def _is_callback(path: str) -> bool:
    return path.startswith(_CALLBACK[0]) and path.endswith(_CALLBACK[1])


class OriginCheck:
    """Whether a call is a cross-site, state-changing call to the frontend API."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(o for o in map(origin_of, allowed) if o is not None)

    def refusal(self, scope: Scope) -> str | None:
        """Why the call is refused (403 ``forbidden``), or None when it may go on."""
        if (
            scope["method"] in _SAFE_METHODS
            or not scope["path"].startswith(_PREFIX)
            or _is_callback(scope["path"])
        ):
            return None
        origin = fetch_site = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"sec-fetch-site":
                fetch_site = value.decode("latin-1").strip().lower()
        if origin is not None:
            if origin_of(origin) in self.allowed:
                return None
            return f"The origin {origin[:200]!r} is not allowed to call this endpoint."
        if fetch_site is not None and fetch_site not in _LOCAL_FETCH:
            return f"A {fetch_site[:40]} request's origin is not allowed to call this endpoint."
        return None
