"""What a request tells about its client: address, country, device."""

from __future__ import annotations

from starlette.requests import Request

from sessile.http.context import context_of
from sessile.sessions import ClientFacts
from sessile.sessions.device import describe_device

__all__ = ["client_facts", "client_ip"]


def client_facts(request: Request) -> ClientFacts:
    locator = context_of(request).locator
    peer = request.client.host if request.client else None
    headers = request.headers
    ip = locator.client_ip(peer, headers)
    user_agent = headers.get("user-agent")
    return ClientFacts(
        ip=ip,
        user_agent=user_agent,
        country_code=locator.country(peer, ip, headers),
        device=describe_device(user_agent, headers),
    )


def client_ip(request: Request) -> str | None:
    """The client's address alone: what a rate limit needs, without parsing its device."""
    peer = request.client.host if request.client else None
    return context_of(request).locator.client_ip(peer, request.headers)
