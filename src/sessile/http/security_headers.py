"""The headers every response carries, built once at start (OWASP ASVS 5.0 V3.4).

- ``X-Content-Type-Options: nosniff``: a browser takes each answer as the type it says.
- ``Content-Security-Policy: frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (for
  browsers that predate the first): no page frames sessile's (clickjacking).
- ``Referrer-Policy: no-referrer``: a page or redirect of sessile's (the social-login
  callback's carries a challenge token) names itself to no one it links or sends to.
- ``Strict-Transport-Security: max-age=…`` (RFC 6797) on a TLS connection, and on every
  answer when the public URL is ``https`` (TLS ends at a proxy in front). Never for a
  loopback public URL: HSTS binds a host name, not a port, so a development certificate on
  ``localhost`` would turn every other ``localhost`` app of the developer's browser to
  https (browsers ignore it for an IP address anyway).

:class:`~sessile.http.edge.Edge` adds one of the two lists to each response's own: no
per-request object and no header parsing, so they cost about 50 ns per response.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["SecurityHeaders"]

Raw = list[tuple[bytes, bytes]]

_EVERY_RESPONSE: Raw = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SecurityHeaders:
    """The raw headers for a response on a plain connection, and on a TLS one."""

    plain: Raw
    tls: Raw

    @classmethod
    def build(cls, public_url: str, hsts_max_age: int) -> SecurityHeaders:
        parts = urlsplit(public_url)
        hsts: Raw = []
        if hsts_max_age > 0 and not _is_loopback(parts.hostname or ""):
            hsts = [(b"strict-transport-security", b"max-age=%d" % hsts_max_age)]
        tls = [*_EVERY_RESPONSE, *hsts]
        return cls(tls if parts.scheme == "https" else list(_EVERY_RESPONSE), tls)
