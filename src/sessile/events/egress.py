"""Outbound webhook calls reach public addresses only, checked at connection time.

A management key holder chooses the webhook URL, so the server must not become a way
to probe its own networks (SSRF). A check at registration alone is not enough: the
name may resolve elsewhere later (DNS rebinding). So every request goes through
:class:`PublicTransport`, which resolves the host itself, refuses the request unless
every address is public, and connects to the address it checked, with the name kept
for ``Host``, TLS SNI and the certificate check. Redirects are never followed, so a
public endpoint can't bounce the call inward. ``SESSILE_EVENT_ALLOW_PRIVATE_URLS``
turns the check off (labs, tests).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

__all__ = ["NonPublicAddress", "PublicTransport", "client", "public_address", "resolve_public"]


class NonPublicAddress(httpx.ConnectError):
    """The host is, or resolves to, a loopback, private or otherwise non-public address."""


def public_address(address: str) -> bool:
    """Whether an IP address is one the public internet routes (not loopback, private,
    link-local, multicast, reserved or unspecified)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
