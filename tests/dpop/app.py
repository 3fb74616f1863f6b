"""A test-only ASGI app with one DPoP route, built on :class:`sessile.dpop.DPoPVerifier`.

``uvicorn --factory tests.dpop.app:from_env`` runs it with ``SESSILE_*`` settings,
so several processes can share one database or Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sessile.clock import SystemClock
from sessile.config import Settings
from sessile.errors import DPoPError
from sessile.http.dpop import DPoPVerifier
from sessile.shared_secrets import SharedSecrets
from sessile.store.database import Database
from sessile.store.replay import create_replay_store

ROUTE = "/v1/session/refresh"
#: A step-up route: its proofs carry the challenge token's jti.
CHALLENGE_ROUTE = "/v1/session/otp/check"


def create_app(verifier: DPoPVerifier, database: Database | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if database is not None:
            await database.close()

    app = FastAPI(lifespan=lifespan)

    @app.post(ROUTE)
    async def refresh(request: Request) -> Response:
        try:
            proof = await verifier.verify(request, ROUTE)
        except DPoPError as error:
            return await verifier.error_response(error)
        body = {"jkt": proof.jkt, "jti": proof.jti, "htu": proof.htu}
        return JSONResponse(body, headers=await verifier.nonce_headers())

    @app.post(CHALLENGE_ROUTE)
    async def check(request: Request) -> Response:
        try:
            proof = await verifier.verify_challenge_proof(request, CHALLENGE_ROUTE)
        except DPoPError as error:
            return await verifier.error_response(error)
        return JSONResponse({"jkt": proof.jkt, "jti": proof.jti, "htu": proof.htu})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def from_env() -> FastAPI:
    settings = Settings()
    assert settings.secret_key is not None, "set SESSILE_SECRET_KEY"
    database = Database.from_url(settings.sqlalchemy_url)
    clock = SystemClock()
    secrets = SharedSecrets(
        database.secrets, settings.secret_key.get_secret_value().encode(), clock
    )
    verifier = DPoPVerifier(
        settings,
        clock=clock,
        secrets=secrets,
        replay=create_replay_store(settings, database.driver),
    )
    return create_app(verifier, database)
