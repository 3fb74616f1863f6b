"""``…/config/claims``: the app's claims mapping (Prelude's "claims mapping config"), the
claims every access token carries beyond sessile's own (``sessile.claims_mapping``).

``POST`` (201) and ``PUT`` (200) both store a new version, whether or not one exists:
Prelude documents ``POST`` to create and ``PUT`` to update, and a backend that runs its
set-up twice must not fail on it. ``GET`` answers 404 ``not_found`` until one is set.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.api_scopes import CONFIG
from sessile.custom_claims import ClaimsConfig
from sessile.errors import NotFound
from sessile.http.api_key import api_key
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.openapi import NO_STORE, errors, json_body
from sessile.http.views import rfc3339

__all__ = ["router"]

configuring = APIRouter(dependencies=[api_key(CONFIG)])


class MappingBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    mapping: dict[str, Any] = Field(
        description="Claim name to value: a literal (copied as is), "
        '{"$input": name, "$type": type} (user_id, session_id, ip, country_code, '
        'external_id, email, phone_number), {"$custom_claim": "<profile member>"}, or an '
        "object of those (kept nested). Reserved claims (sub, sid, scope, exp, minted, cc, …) "
        "are refused."
    )


class ClaimsConfigView(BaseModel):
    mapping: dict[str, Any]
    version: int = Field(description="1 for the first mapping, one more for each later one.")
    created_at: str = Field(description="RFC 3339, UTC.")
    updated_at: str = Field(description="RFC 3339, UTC.")
    cc_claims: dict[str, Any] | None = Field(
        default=None,
        description="Only while a mapping set by an earlier sessile (PUT {claims}) is in "
        "force: its claims, which go under cc as strings until a mapping replaces them.",
    )


class ClaimsConfigAnswer(BaseModel):
    config: ClaimsConfigView


def _answer(config: ClaimsConfig, status: int) -> JSONResponse:
    view: dict[str, Any] = {
        "mapping": dict(config.mapping),
        "version": config.version,
        "created_at": rfc3339(config.created_at),
        "updated_at": rfc3339(config.updated_at),
    }
    if config.cc_claims is not None:
        view["cc_claims"] = dict(config.cc_claims)
    return JSONResponse({"config": view}, status_code=status, headers=NO_STORE)


async def _store(request: Request, status: int) -> JSONResponse:
    body = await read_json(request, MappingBody)
    return _answer(await context_of(request).custom_claims.replace(body.mapping), status)


@configuring.get(
    "/config/claims",
    operation_id="get_claims_config",
    response_model=ClaimsConfigAnswer,
    responses=errors(404),
)
async def get_claims(request: Request, app_id: str) -> JSONResponse:
    """The claims mapping, its version and times."""
    config = await context_of(request).custom_claims.config()
    if config is None:
        raise NotFound("No claims mapping is set.")
    return _answer(config, 200)


@configuring.post(
    "/config/claims",
    operation_id="create_claims_config",
    status_code=201,
    response_model=ClaimsConfigAnswer,
    responses=errors(400),
    openapi_extra=json_body(MappingBody),
)
async def create_claims(request: Request, app_id: str) -> JSONResponse:
    """Set the mapping; tokens issued from now on carry it (every node within seconds)."""
    return await _store(request, 201)


@configuring.put(
    "/config/claims",
    operation_id="set_claims_config",
    response_model=ClaimsConfigAnswer,
    responses=errors(400),
    openapi_extra=json_body(MappingBody),
)
async def set_claims(request: Request, app_id: str) -> JSONResponse:
    """Replace the mapping; tokens issued from now on carry it (every node within seconds)."""
    return await _store(request, 200)


router = APIRouter(prefix="/v2/session/apps/{app_id}", tags=["management"])
router.include_router(configuring)
