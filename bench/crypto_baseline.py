"""The refresh's crypto and nothing else: one DPoP proof verify and one ES256 sign.

Served by uvicorn as the baseline for ``bench/refresh.py``.
"""

from __future__ import annotations

import json
import time

from joserfc import jws, jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_SIGNING_KEY = ECKey.generate_key("P-256", private=True)


async def refresh(request: Request) -> JSONResponse:
    proof = request.headers["dpop"]
    header = jws.extract_compact(proof.encode()).protected
    verified = jws.deserialize_compact(proof, ECKey.import_key(header["jwk"]), algorithms=["ES256"])
    claims = json.loads(verified.payload)
    now = int(time.time())
    token = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": "bench"},
        {"sub": "usr_bench", "sid": claims["jti"], "iat": now, "exp": now + 300},
        _SIGNING_KEY,
        algorithms=["ES256"],
    )
    return JSONResponse({"access_token": token, "expires_at": now + 300})


app = Starlette(routes=[Route("/v1/session/refresh", refresh, methods=["POST"])])


def create_app() -> Starlette:
    """The same app, as ``bench/serve.py`` takes it."""
    return app
