"""``POST …/tokens``: minted tokens (Prelude's "mint token"), when ``SESSILE_MINT_TOKENS``
is on and the API key has the ``tokens`` scope."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.access_tokens import MAX_MINTED_TTL
from sessile.api_scopes import TOKENS
from sessile.errors import BadRequest, Forbidden
from sessile.http.api_key import api_key
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.openapi import NO_STORE, errors, json_body
from sessile.http.views import rfc3339

__all__ = ["router"]

minting = APIRouter(dependencies=[api_key(TOKENS)])


class MintBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    claims: dict[str, Any] = Field(
        default_factory=dict,
        description="Claims passed through as they are, but for the reserved ones (sid, "
        "scope, cc, minted, iss, aud, …: 400 naming them); exp defaults to 24 hours away "
        "and is capped there; iat, nbf and jti are filled in when missing. Every minted "
        'token carries "minted": true and sid "minted", so that no route of sessile\'s '
        "takes it for a session's token.",
    )
    user_id: str | None = Field(
        default=None,
        max_length=40,
        description="sessile's addition: a user, the token's sub, with the claims the "
        "app's claims mapping gives the user.",
    )
    ttl: int = Field(
        default=MAX_MINTED_TTL,
        ge=1,
        le=MAX_MINTED_TTL,
        description="sessile's addition: seconds until exp when the claims have none.",
    )


class Minted(BaseModel):
    token: str
    expires_at: str = Field(description="RFC 3339, UTC.")


@minting.post(
    "/tokens",
    operation_id="mint_token",
    status_code=201,
    response_model=Minted,
    responses=errors(400, 404),
    openapi_extra=json_body(MintBody, required=False),
)
async def mint_token(request: Request, app_id: str) -> JSONResponse:
    """Mint a signed access token for tests and service calls; it carries ``"minted":
    true``, and sessile's own routes refuse it. Only when minting is on
    (``SESSILE_MINT_TOKENS``); every mint is audited."""
    context = context_of(request)
    if not context.settings.mint_tokens:
        raise Forbidden("Minting tokens is off (SESSILE_MINT_TOKENS).")
    body = await read_json(request, MintBody)
    try:
        # Python's JSON reader takes NaN and Infinity; no JWT reader would.
        json.dumps(body.claims, allow_nan=False)
    except ValueError as exc:
        raise BadRequest("claims: numbers must be finite.") from exc
    claims = dict(body.claims)
    user_claims = None
    if body.user_id is not None:
        user = await context.users.existing(body.user_id)
        user_claims = {**(await context.custom_claims(user.id, None)), "sub": user.id}
    token, exp = await context.access_tokens.mint(claims, ttl=body.ttl, user_claims=user_claims)
    sub = claims.get("sub", body.user_id)
    await context.audit.record("token.minted", user_id=body.user_id, data={"sub": sub, "exp": exp})
    return JSONResponse(
        {"token": token, "expires_at": rfc3339(exp)}, status_code=201, headers=NO_STORE
    )


router = APIRouter(prefix="/v2/session/apps/{app_id}", tags=["management"])
router.include_router(minting)
