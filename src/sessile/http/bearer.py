"""``Authorization: Bearer`` (RFC 6750): the access token and its live session."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from sessile.audit import acting_as
from sessile.errors import Unauthorized
from sessile.http.context import context_of
from sessile.jose import BearerError, bearer_token
from sessile.store.session_rows import SessionRow

__all__ = ["Caller", "bearer_caller"]


@dataclass(frozen=True)
class Caller:
    user_id: str
    session: SessionRow
    #: The access token's ``scope``, split on spaces.
    scopes: frozenset[str] = frozenset()


async def bearer_caller(request: Request) -> Caller:
    """The caller behind a valid access token whose session is still live."""
    try:
        token = bearer_token(request.headers.get("authorization"))
    except BearerError as exc:
        raise Unauthorized("An access token is required: Authorization: Bearer <token>.") from exc
    context = context_of(request)
    claims = await context.access_tokens.verify(token)
    acting_as(f"user:{claims.sub}")
    session = await context.sessions.active(claims.sid, claims.sub)
    return Caller(claims.sub, session, claims.scopes)
