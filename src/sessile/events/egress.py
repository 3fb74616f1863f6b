"""Outbound webhook calls reach public addresses only, checked at connection time.

A management key holder chooses the webhook URL, so the server must not become a way
to probe its own networks (SSRF). A check at registration alone is not enough: the
name may resolve elsewhere later (DNS rebinding). So every request goes through
:class:`PublicTransport`, which resolves the host itself, refuses the request unless
every address is public, and connects to the address it checked, with the name kept
for ``Host``, TLS SNI and the certificate check. Redirects are never followed, so a
public endpoint can't bounce the call inward. ``SESSILE_EVENT_ALLOW_PRIVATE_URLS``
turns the check off (labs, tests).

An IPv4 address can hide inside an IPv6 one (mapped, translated, compatible, NAT64), and
on an IPv6-only network with DNS64 ``64:ff9b::10.0.0.1`` reaches ``10.0.0.1``: such an
address is judged by the IPv4 it carries. The same client serves webhooks, the step-up
hook and the app's JWKS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

__all__ = ["NonPublicAddress", "PublicTransport", "client", "public_address", "resolve_public"]


class NonPublicAddress(httpx.ConnectError):
    """The host is, or resolves to, a loopback, private or otherwise non-public address."""


#: Ranges refused whatever ``is_global`` says (its tables differ between Python versions):
#: deprecated site-local IPv6, 6to4 (its relays reach an IPv4 of the sender's choosing),
#: and the 6to4 relay anycast.
_DENIED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("fec0::/10"),
    ipaddress.ip_network("2002::/16"),
    ipaddress.ip_network("192.88.99.0/24"),
)
#: IPv6 ranges that carry an IPv4 address in their last 32 bits, which a translator, a
#: dual-stack kernel or DNS64 turns back into that IPv4: mapped, SIIT's translated
#: (RFC 6145), IPv4-compatible (RFC 4291) and NAT64's well-known prefix (RFC 6052).
_IPV4_INSIDE: tuple[ipaddress.IPv6Network, ...] = (
    ipaddress.IPv6Network("::ffff:0:0/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("64:ff9b::/96"),
)
#: NAT64's local-use prefix (RFC 8215). A network picks its own prefix length in it, and
#: RFC 6052 puts the IPv4 at another place for each length, so only the /96 layout is
#: read: with a shorter prefix, a translator would find the IPv4 in bits this check
#: never saw. Any other address in the /48 is refused.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
_LOCAL_NAT64_96 = ipaddress.IPv6Network("64:ff9b:1::/96")
#: IPv6's global unicast space (RFC 4291 §2.4): everything outside it is reserved or special,
#: whatever ``is_global`` makes of it (it takes ``64:ff9b::ffff:a00:1`` for global).
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def public_address(address: str) -> bool:
    """Whether an IP address is one the public internet routes (not loopback, private,
    link-local, multicast, reserved or unspecified), with an IPv4 carried inside an IPv6
    address judged as that IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            if ip not in _LOCAL_NAT64_96:
                return False
            ip = _low_ipv4(ip)
        elif any(ip in network for network in _IPV4_INSIDE):
            ip = _low_ipv4(ip)
        elif ip not in _GLOBAL_UNICAST:
            return False
    if any(ip in network for network in _DENIED):
        return False
    return ip.is_global and not ip.is_multicast


def _low_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)


async def resolve_public(host: str) -> str:
    """One address of ``host``, if every address it has is public.

    Raises :class:`NonPublicAddress` otherwise, and ``OSError`` if it does not resolve.
    """
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        addresses = [str(info[4][0]) for info in found]
    if not addresses or not all(public_address(a) for a in addresses):
        raise NonPublicAddress(f"{host!r} is or resolves to a non-public address")
    return addresses[0]


class PublicTransport(httpx.AsyncBaseTransport):
    """Sends each request to the public address its host was just checked to have."""

    def __init__(self, *, allow_private: bool = False) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._allow_private = allow_private

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self._allow_private:
            host = request.url.host
            try:
                address = await resolve_public(host)
            except OSError as exc:
                raise httpx.ConnectError(f"{host!r} does not resolve", request=request) from exc
            except NonPublicAddress as exc:
                raise NonPublicAddress(str(exc), request=request) from None
            # The Host header was set from the name when the request was built.
            request.url = request.url.copy_with(host=address)
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def client(*, timeout: float, allow_private: bool) -> httpx.AsyncClient:
    """An HTTP client for webhook endpoints: public addresses only, no redirects."""
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        transport=PublicTransport(allow_private=allow_private),
    )
