"""Tiny FastAPI, Starlette and Flask apps guarded by sessile.verify, served on loopback threads."""

# No ``from __future__ import annotations``: FastAPI must evaluate the route's Annotated[...,
# Depends(bearer)] while ``bearer`` is a local of the factory.

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from werkzeug.serving import make_server

from sessile.verify import AsyncVerifier, Claims, Verifier
from sessile.verify.fastapi import BearerToken, add_error_handler, require_scope
from sessile.verify.flask import current_claims, require_token
from sessile.verify.flask import require_scope as flask_require_scope
from sessile.verify.starlette import BearerTokenMiddleware, claims_of
from sessile.verify.starlette import require_scope as starlette_require_scope
from tests.server import free_port

__all__ = ["fastapi_app", "flask_app", "serve_asgi", "serve_wsgi", "starlette_app"]

#: The scope the apps' ``/password`` route needs: a step-up's grant.
PASSWORD_SCOPE = "prld:pwd:write"


def _body(claims: Claims) -> dict[str, Any]:
    return {"sub": claims.sub, "sid": claims.sid, "scope": claims.scope}


def fastapi_app(verifier: AsyncVerifier, *, handler: bool = True) -> FastAPI:
    app = FastAPI()
    if handler:
        add_error_handler(app)
    bearer = BearerToken(verifier)

    @app.get("/me")
    async def me(claims: Annotated[Claims, Depends(bearer)]) -> dict[str, Any]:
        return _body(claims)

    stepped_up = require_scope(bearer, PASSWORD_SCOPE)

    @app.get("/password")
    async def password(claims: Annotated[Claims, Depends(stepped_up)]) -> dict[str, Any]:
        return _body(claims)

    return app


def starlette_app(verifier: AsyncVerifier) -> Starlette:
    async def me(request: Request) -> JSONResponse:
        return JSONResponse(_body(claims_of(request)))

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @starlette_require_scope(PASSWORD_SCOPE)
    async def password(request: Request) -> JSONResponse:
        return JSONResponse(_body(claims_of(request)))

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(_body(claims_of(websocket)))
        await websocket.close()

    return Starlette(
        routes=[
            Route("/me", me),
            Route("/password", password),
            Route("/healthz", health),
            WebSocketRoute("/ws", echo),
        ],
        middleware=[Middleware(BearerTokenMiddleware, verifier=verifier, exclude={"/healthz"})],
    )


def flask_app(verifier: Verifier) -> Flask:
    app = Flask(__name__)

    @app.get("/me")
    @require_token(verifier)
    def me() -> dict[str, Any]:
        return _body(current_claims())

    @app.get("/password")
    @require_token(verifier)
    @flask_require_scope(PASSWORD_SCOPE)
    def password() -> dict[str, Any]:
        return _body(current_claims())

    return app


@contextlib.contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def serve_wsgi(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
