"""``Authorization: Bearer <API key>`` on the management API (DESIGN §7).

A router declares its key once: ``APIRouter(dependencies=[api_key(SCOPE)])``. Every route
under it then authenticates the key, and checks its scope, before it reads anything else.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from starlette.requests import Request

from sessile.audit import acting_as
from sessile.errors import Forbidden, NotFound, Unauthorized
from sessile.http.context import context_of
from sessile.jose import BearerError, bearer_token
from sessile.store.api_keys import ApiKey

__all__ = ["api_key", "api_key_caller"]


def api_key(scope: str) -> Any:
    """The dependency of a router whose every route needs an API key with ``scope``."""

    async def caller(request: Request, app_id: str) -> ApiKey:
        return await api_key_caller(request, app_id, scope)

    return Depends(caller)


async def api_key_caller(request: Request, app_id: str, scope: str | None = None) -> ApiKey:
    """The key that authenticates the request; ``forbidden`` when it lacks ``scope``."""
    context = context_of(request)
    try:
        presented = bearer_token(request.headers.get("authorization"))
    except BearerError as exc:
        raise Unauthorized("An API key is required: Authorization: Bearer sk_….") from exc
    key = await context.api_keys.authenticate(presented)
    if key is None:
        raise Unauthorized("The API key is unknown or revoked.")
    if app_id != context.settings.app_id:
        raise NotFound("No such app.")
    acting_as(f"api_key:{key.id}")
    if scope is not None and not key.allows(scope):
        raise Forbidden(f"This API key lacks the {scope!r} scope.")
    await context.api_keys.record_use(key, method=request.method, route=_route(request))
    return key


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))
