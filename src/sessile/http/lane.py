"""The short way to sessile's hottest routes.

Every signed-in tab refreshes every few minutes, so ``POST /v1/session/refresh`` is
the call sessile serves most. FastAPI's router, its dependency solving and its
exception middleware cost a good part of that call's CPU, and the route needs none
of them: its endpoint takes the bare request. So :class:`~sessile.http.edge.Edge`,
after its own checks, hands such requests to :class:`HotRoutes`, which runs the very
same endpoint, through the same DPoP wrapping and the same exception handlers. The
route stays declared on its router, which keeps its place in the OpenAPI document.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from sessile.http.dpop import DPoPRoute
from sessile.http.errors import handle_exception

__all__ = ["HotRoutes"]


class HotRoutes:
    """``POST`` on the given paths of ``router``, straight to their DPoP endpoints."""

    def __init__(self, router: APIRouter, paths: Iterable[str]) -> None:
        wanted = frozenset(paths)
        self._routes: dict[str, DPoPRoute] = {}
        for route in router.routes:
            if not (
                isinstance(route, APIRoute)
                and route.path in wanted
                and "POST" in (route.methods or ())
            ):
                continue
            if not isinstance(route, DPoPRoute):
                raise TypeError(f"{route.path} is not a DPoP route")
            if list(inspect.signature(route.endpoint).parameters) != ["request"]:
                raise TypeError(f"{route.path} takes more than the request")
            self._routes[route.path] = route
        if missing := wanted - self._routes.keys():
            raise LookupError(f"no POST route for {sorted(missing)}")

    async def serve(self, owner: FastAPI, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request if it is for a hot route; False if it is not."""
        if scope["method"] != "POST":
            return False
        route = self._routes.get(get_route_path(scope))
        if route is None:
            return False
        scope["route"] = route  # as the router would: metrics label by its template
        scope["endpoint"] = route.endpoint
        request = Request(scope, receive)
        try:
            response = await route.answer(request, route.endpoint)
        except Exception as exc:
            response = await handle_exception(owner, request, exc)
        await response(scope, receive, send)
        return True
