"""The short way through the stack for sessile's hottest routes.

Every signed-in tab refreshes every few minutes, so ``POST /v1/session/refresh`` is
the route sessile serves most. FastAPI's router, its dependency solving and its
exception middleware cost about a fifth of that route's CPU (``bench/refresh.py
--anchor``), and the route needs none of them: it takes the bare request. So this
layer sits inside sessile's own middleware (request facts and metrics, the body
limit, CORS and the origin check all apply as for any route) and answers the routes
it is given before FastAPI's router does. It runs the very same endpoint, through
the same DPoP wrapping and the same exception handlers; the route stays declared on
its router, which keeps its place in the OpenAPI document and answers any request
that comes another way (a mounted sub-path, say).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sessile.http.dpop_route import DPoPRoute
from sessile.http.errors import handle_exception

__all__ = ["HotRoutes"]


class HotRoutes:
    """Dispatch ``POST`` on the given paths of ``router`` straight to their DPoP endpoints."""

    def __init__(
        self, app: ASGIApp, *, owner: FastAPI, router: APIRouter, paths: Iterable[str]
    ) -> None:
        self._app = app
        self._owner = owner
        wanted = frozenset(paths)
        self._routes: dict[str, DPoPRoute] = {}
        for route in router.routes:
            if (
                isinstance(route, APIRoute)
                and route.path in wanted
                and "POST" in (route.methods or ())
            ):
                if not isinstance(route, DPoPRoute):
                    raise TypeError(f"{route.path} is not a DPoP route")
                if list(inspect.signature(route.endpoint).parameters) != ["request"]:
                    raise TypeError(f"{route.path} takes more than the request")
                self._routes[route.path] = route
        if missing := wanted - self._routes.keys():
            raise LookupError(f"no POST route for {sorted(missing)}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and scope["method"] == "POST":
            route = self._routes.get(get_route_path(scope))
        if route is None:
            await self._app(scope, receive, send)
            return
        scope["route"] = route  # as the router would: metrics label by its template
        scope["endpoint"] = route.endpoint
        request = Request(scope, receive)
        try:
            response = await route.answer(request, route.endpoint)
        except Exception as exc:
            response = await handle_exception(self._owner, request, exc)
        await response(scope, receive, send)
