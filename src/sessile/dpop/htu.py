"""Compare a proof's ``htu`` with the endpoint URL, RFC 9449 §4.3 (check 9).

Both sides are normalised as RFC 3986 §6.2.2 (syntax: case, percent-encoding,
dot segments) and §6.2.3 (scheme: default port, empty path) describe; the
query and fragment are dropped, as RFC 9449 §4.2 says ``htu`` has none.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = ["normalize_htu"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters that may appear in a URI at all (RFC 3986 §2); urlsplit would quietly
# drop tabs and newlines, so anything else is rejected up front.
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")


def _percent(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    result = "/" + "/".join(output)
    # A path that ended in "." or ".." still names a folder.
    if path.endswith(("/.", "/..")) and not result.endswith("/"):
        result += "/"
    return result


@lru_cache(maxsize=1024)  # the endpoint URLs, and the few spellings clients use
def normalize_htu(url: str) -> str | None:
    """The normal form of an absolute http(s) URL without query and fragment, or None."""
    if not _URI_CHARS.match(url) or _PERCENT.sub("", url).count("%"):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    host = _PERCENT.sub(_percent, host).lower()
    if ":" in host:
        host = f"[{host}]"
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _PERCENT.sub(_percent, parts.path) or "/"
    if not path.startswith("/"):
        return None
    return f"{scheme}://{authority}{_remove_dot_segments(path)}"
