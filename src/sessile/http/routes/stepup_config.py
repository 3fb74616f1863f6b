"""``/v2/session/apps/{app_id}/config/stepup``: the step-up configuration (PRELUDE-API
§4.7), stored as a live document, so every node uses a change within seconds, and every
change is in the audit trail. With none stored, the ``SESSILE_STEPUP_*`` settings apply;
``DELETE`` goes back to them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.api_scopes import CONFIG
from sessile.errors import BadRequest, NotFound
from sessile.http.api_key import api_key
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.openapi import NO_STORE, errors, json_body
from sessile.http.views import rfc3339
from sessile.live_config import ConfigDocument
from sessile.stepup.config import StepUpConfig
from sessile.stepup.service import CONFIG_NAME

__all__ = ["router"]

router = APIRouter(
    prefix="/v2/session/apps/{app_id}", tags=["management"], dependencies=[api_key(CONFIG)]
)


class StepUpConfigView(BaseModel):
    config: dict[str, Any]


def _view(document: ConfigDocument) -> dict[str, Any]:
    config = StepUpConfig.model_validate(document.value).view()
    return {
        **config,
        "jwks_url": config.get("jwks_url", ""),
        "version": document.version,
        "created_at": rfc3339(document.created_at),
        "updated_at": rfc3339(document.updated_at),
    }


async def _write(request: Request, status: int) -> JSONResponse:
    config = await read_json(request, StepUpConfig)
    try:
        config.check_written()
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    document = await context_of(request).live_config.put(CONFIG_NAME, config.view())
    return JSONResponse(
        {"config": _view(document), "message": "The step-up configuration is saved."},
        status_code=status,
        headers=NO_STORE,
    )


@router.post(
    "/config/stepup",
    operation_id="create_stepup_config",
    status_code=201,
    response_model=StepUpConfigView,
    responses=errors(400),
    openapi_extra=json_body(StepUpConfig),
)
async def create(request: Request, app_id: str) -> JSONResponse:
    """Set the step-up configuration (replacing any stored one)."""
    return await _write(request, 201)


@router.put(
    "/config/stepup",
    operation_id="update_stepup_config",
    response_model=StepUpConfigView,
    responses=errors(400),
    openapi_extra=json_body(StepUpConfig),
)
async def update(request: Request, app_id: str) -> JSONResponse:
    """Replace the step-up configuration."""
    return await _write(request, 200)


@router.get(
    "/config/stepup",
    operation_id="get_stepup_config",
    response_model=StepUpConfigView,
    responses=errors(404),
)
async def get(request: Request, app_id: str) -> JSONResponse:
    """The stored step-up configuration; 404 while the settings' defaults apply."""
    live = context_of(request).live_config
    live.forget()
    document = await live.get(CONFIG_NAME)
    if document is None:
        raise NotFound("No step-up configuration is stored; the settings' defaults apply.")
    return JSONResponse({"config": _view(document)}, headers=NO_STORE)


@router.delete(
    "/config/stepup",
    operation_id="delete_stepup_config",
    status_code=204,
    response_class=Response,
    responses=errors(404),
)
async def delete(request: Request, app_id: str) -> Response:
    """Drop the stored configuration: the settings' defaults apply again."""
    if not await context_of(request).live_config.delete(CONFIG_NAME):
        raise NotFound("No step-up configuration is stored.")
    return Response(status_code=204)


# Config - Scopes (PRELUDE-API §4.11): the app's scopes, as Prelude's password guide
# registers them before its step-up configuration. They are listed, not enforced: the
# step-up configuration alone says which scopes a session may ask for.
SCOPES_NAME = "scopes"
_MAX_SCOPES = 500


class ScopeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scope: str = Field(min_length=1, max_length=100, pattern=r"^[a-zA-Z0-9.\-_:]+$")


class ScopeList(BaseModel):
    scopes: list[str]


async def _scopes(request: Request) -> list[str]:
    live = context_of(request).live_config
    live.forget()
    return list(await live.value(SCOPES_NAME) or [])


@router.post(
    "/config/scopes",
    operation_id="create_scope",
    status_code=201,
    response_model=ScopeBody,
    responses=errors(400),
    openapi_extra=json_body(ScopeBody),
)
async def create_scope(request: Request, app_id: str) -> JSONResponse:
    """Add a scope to the app's scopes (a second add changes nothing)."""
    body = await read_json(request, ScopeBody)
    scopes = await _scopes(request)
    if body.scope not in scopes:
        if len(scopes) >= _MAX_SCOPES:
            raise BadRequest(f"An app has at most {_MAX_SCOPES} scopes.")
        await context_of(request).live_config.put(SCOPES_NAME, sorted([*scopes, body.scope]))
    return JSONResponse({"scope": body.scope}, status_code=201, headers=NO_STORE)


@router.get("/config/scopes", operation_id="list_scopes", response_model=ScopeList)
async def list_scopes(request: Request, app_id: str) -> JSONResponse:
    return JSONResponse({"scopes": await _scopes(request)}, headers=NO_STORE)


@router.delete(
    "/config/scopes/{scope}",
    operation_id="delete_scope",
    status_code=204,
    response_class=Response,
    responses=errors(404),
)
async def delete_scope(request: Request, app_id: str, scope: str) -> Response:
    scopes = await _scopes(request)
    if scope not in scopes:
        raise NotFound("No such scope.")
    await context_of(request).live_config.put(SCOPES_NAME, [s for s in scopes if s != scope])
    return Response(status_code=204)
