"""The short way to sessile's hottest route, ``POST /v1/session/refresh``.

Every signed-in tab refreshes every few minutes, so the refresh is the call sessile
serves most, and nearly every one has no body. FastAPI's router, its dependency
solving, its ``Request`` and ``JSONResponse``, and the exception middleware cost a good
part of that call's CPU, and a bodiless refresh needs none of them. So
:class:`~sessile.http.edge.Edge`, after its own checks (the body limit, CORS, the origin
check), hands it to :class:`RefreshLane`, which:

- reads the four headers it needs straight from the ASGI scope;
- runs the route's own rules (:func:`~sessile.http.routes.session.rotate`) with the
  app's :class:`~sessile.http.dpop.DPoPVerifier`;
- sends the answer as two ASGI messages: the same body and headers the route sends.

A refresh with a body (it may carry a step-up token) goes on to the route itself,
which stays declared on its router and keeps its place in the OpenAPI document. Errors
take the route's way: a :class:`~sessile.errors.SessileError` gets the DPoP error
response with its nonce, any other the app's exception handlers.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.requests import HTTPConnection, Request
from starlette.types import Receive, Scope, Send

from sessile.context import AppContext
from sessile.errors import SessileError
from sessile.http.cookies import header_mode, presented_refresh, refresh_headers
from sessile.http.dpop import DPoPRoute, dpop_of
from sessile.http.errors import handle_exception
from sessile.http.routes.session import RefreshBody, rotate

__all__ = ["RefreshLane"]

_NO_BODY = RefreshBody()
# Built once: ``json.dumps`` with any option builds an encoder on every call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


async def _no_body() -> RefreshBody:
    return _NO_BODY


class RefreshLane:
    """A bodiless ``POST`` on ``path`` of ``router``: the refresh, without FastAPI."""

    def __init__(self, owner: FastAPI, router: APIRouter, path: str) -> None:
        for route in router.routes:
            if (
                isinstance(route, APIRoute)
                and route.path == path
                and "POST" in (route.methods or ())
            ):
                break
        else:
            raise LookupError(f"no POST route for {path}")
        if not isinstance(route, DPoPRoute):
            raise TypeError(f"{path} is not a DPoP route")
        self._owner = owner
        self._route = route
        self._path = path

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request if it is a refresh without a body; False if it is not."""
        if scope["method"] != "POST" or get_route_path(scope) != self._path:
            return False
        proofs: list[str] = []
        refresh = mode = cookie = None
        for name, raw in scope["headers"]:
            if name == b"dpop":
                proofs.append(raw.decode("latin-1"))
            elif name == b"x-refresh-token":
                refresh = raw.decode("latin-1") if refresh is None else refresh
            elif name == b"cookie":
                cookie = raw.decode("latin-1") if cookie is None else cookie
            elif name == b"x-refresh-token-mode":
                mode = raw.decode("latin-1") if mode is None else mode
            elif (name == b"content-length" and raw != b"0") or name == b"transfer-encoding":
                return False  # a body: the route reads it
        scope["route"] = self._route  # as the router would: metrics label by its template
        scope["endpoint"] = self._route.endpoint
        context: AppContext = self._owner.state.context
        dpop = dpop_of(HTTPConnection(scope))
        try:
            try:
                proof = await dpop.check_headers(proofs, method="POST", path=self._path)
                presented = presented_refresh(refresh, cookie, context.settings)
                issued = await rotate(context, proof, presented, _no_body)
                now = context.clock.now()
                nonce = (await dpop.nonces()).issue(now)
            except SessileError as error:
                await (await dpop.error_response(error))(scope, receive, send)
                return True
        except Exception as exc:
            response = await handle_exception(self._owner, Request(scope, receive), exc)
            await response(scope, receive, send)
            return True
        body = _JSON.encode(
            {"access_token": issued.access_token, "expires_at": issued.access_expires_at}
        ).encode()
        headers = [
            (b"content-length", b"%d" % len(body)),
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            (b"dpop-nonce", nonce.encode("latin-1")),
        ]
        headers += [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in refresh_headers(
                context.settings,
                header_mode=header_mode(refresh, mode),
                token=issued.refresh_token,
                expires_at=issued.refresh_expires_at,
                now=now,
            )
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True
