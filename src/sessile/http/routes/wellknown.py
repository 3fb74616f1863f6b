"""``/.well-known/jwks.json`` (RFC 7517) and the RFC 8414 authorization-server metadata.

The JWKS holds the ES256 keys that sign tokens, then the PS256 keys that sign webhook
deliveries and hook requests. Each key names its ``alg`` and ``kid``, so a token verifier
picks the token's key and never an RSA one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sessile.http.context import context_of

__all__ = ["router"]

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> JSONResponse:
    context = context_of(request)
    keys = await context.ring.published() + await context.body_keys.published()
    max_age = context.settings.jwks_max_age
    return JSONResponse(
        {"keys": keys},
        headers={
            "Cache-Control": f"public, max-age={max_age}, stale-while-revalidate={max_age}",
            "Access-Control-Allow-Origin": "*",
        },
    )


@router.get("/.well-known/oauth-authorization-server")
async def metadata(request: Request) -> JSONResponse:
    settings = context_of(request).settings
    body: dict[str, Any] = {
        "issuer": settings.issuer,
        "jwks_uri": settings.url("/.well-known/jwks.json"),
        "dpop_signing_alg_values_supported": list(settings.dpop_algorithms),
        "token_endpoint_auth_methods_supported": ["none"],
        "grant_types_supported": ["refresh_token"],
        "sessile_session_endpoint": settings.url("/v1/session"),
    }
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=3600"})
