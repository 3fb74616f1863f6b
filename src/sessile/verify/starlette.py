"""Starlette (or any ASGI app): middleware that refuses requests without a valid bearer token.

::

    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from sessile.verify import AsyncVerifier
    from sessile.verify.starlette import BearerTokenMiddleware, claims_of

    verifier = AsyncVerifier("https://auth.example.com", "default")
    app = Starlette(
        routes=[...],
        middleware=[Middleware(BearerTokenMiddleware, verifier=verifier, exclude={"/healthz"})],
    )

    async def me(request):
        return JSONResponse({"user": claims_of(request).sub})

HTTP requests get 401 with ``WWW-Authenticate`` and ``{"code", "message"}``
(503 when the issuer's keys cannot be fetched); WebSocket handshakes are closed
with 1008 (policy violation) before they are accepted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Collection

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sessile.verify._errors import TokenError, check_scopes
from sessile.verify._http import bearer_token, error_answer
from sessile.verify._verifier import AsyncVerifier
from sessile.verify.claims import Claims

__all__ = ["STATE_KEY", "BearerTokenMiddleware", "claims_of", "require_scope"]

#: Where the verified claims go in the ASGI scope's ``state`` (``request.state.sessile_claims``).
STATE_KEY = "sessile_claims"


class BearerTokenMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        verifier: AsyncVerifier,
        *,
        exclude: Collection[str] = (),
        realm: str | None = None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.exclude = frozenset(exclude)
        self.realm = realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.exclude:
            await self.app(scope, receive, send)
            return
        try:
            token = bearer_token(Headers(scope=scope).get("authorization"))
            claims = await self.verifier.verify(token)
        except TokenError as error:
            await self._refuse(scope, send, error)
            return
        scope.setdefault("state", {})[STATE_KEY] = claims
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, error: TokenError) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": error.code})
            return
        answer = error_answer(error, self.realm)
        body = json.dumps(answer.body).encode()
        headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def claims_of(connection: HTTPConnection) -> Claims:
    """The claims the middleware verified for this request."""
    claims = connection.scope.get("state", {}).get(STATE_KEY)
    if not isinstance(claims, Claims):
        raise LookupError("no verified claims: is BearerTokenMiddleware installed on this path?")
    return claims


Endpoint = Callable[[Request], Awaitable[Response]]


def require_scope(*scopes: str, realm: str | None = None) -> Callable[[Endpoint], Endpoint]:
    """Decorate an endpoint behind :class:`BearerTokenMiddleware` so that it also needs
    every one of ``scopes``; a token without them gets 403 ``insufficient_scope``::

        @require_scope("prld:pwd:write")
        async def password(request): ...
    """

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def wrapped(request: Request) -> Response:
            try:
                check_scopes(claims_of(request).scopes, scopes)
            except TokenError as error:
                answer = error_answer(error, realm)
                return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)
            return await endpoint(request)

        return wrapped

    return decorate
