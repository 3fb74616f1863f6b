"""``/v2/session/apps/{app_id}/config/login/…``: the OTP, OAuth and password login configs,
in Prelude's shapes (PRELUDE-API §4.10), behind the ``config`` API-key scope.

Every change is a live document: in force on this node at once and on every other within
``SESSILE_LIVE_CONFIG_MAX_AGE`` seconds, and audited (``config.changed``). A refused body
stores nothing. Reads go to the database, not to this node's copy. ``DELETE`` (and
``GET`` of one OTP config) are sessile's own: back to the settings.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sessile.api_scopes import CONFIG
from sessile.errors import NotFound
from sessile.http.api_key import api_key
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.login_config_views import (
    LoginConfigAnswer,
    LoginConfigList,
    OAuthConfigAnswer,
    PasswordConfigAnswer,
    oauth_config_view,
    otp_config_view,
    password_config_view,
)
from sessile.http.openapi import NO_STORE, errors, json_body
from sessile.login.configs.oauth import OAuthLoginConfigBody
from sessile.login.configs.otp import OtpLoginConfig, OtpLoginConfigBody
from sessile.login.configs.password import PasswordLoginConfig, PasswordLoginConfigBody

__all__ = ["router"]

configuring = APIRouter(dependencies=[api_key(CONFIG)])

_OTP = "/config/login/otp"
_ONE_OTP = _OTP + "/{login_config_id}"
_OAUTH = "/config/login/oauth/{provider}"
_PASSWORD = "/config/login/password"


def _otp_answer(config: OtpLoginConfig, status: int = 200) -> JSONResponse:
    view = otp_config_view(config).model_dump()
    return JSONResponse({"login_config": view}, status_code=status, headers=NO_STORE)


# OTP -----------------------------------------------------------------------------------
@configuring.post(
    _OTP,
    operation_id="create_login_otp_config",
    status_code=201,
    response_model=LoginConfigAnswer,
    responses=errors(400),
    openapi_extra=json_body(OtpLoginConfigBody),
)
async def create_otp_config(request: Request, app_id: str) -> JSONResponse:
    """Add an OTP login config. Once one exists, login by code takes only the channels
    some config sends by; ``login_config_id`` on ``/v1/session/login/otp`` names one."""
    body = await read_json(request, OtpLoginConfigBody)
    config = await context_of(request).login_configs.otp.create(body)
    answer = _otp_answer(config, 201)
    answer.headers["Location"] = f"/v2/session/apps/{app_id}{_OTP}/{config.id}"
    return answer


@configuring.get(_OTP, operation_id="list_login_otp_configs", response_model=LoginConfigList)
async def list_otp_configs(request: Request, app_id: str) -> JSONResponse:
    """Every OTP login config, oldest first; none means both channels, as the settings say."""
    configs = await context_of(request).login_configs.otp.all(fresh=True)
    views = [otp_config_view(c).model_dump() for c in configs]
    return JSONResponse({"login_configs": views}, headers=NO_STORE)


@configuring.get(
    _ONE_OTP,
    operation_id="get_login_otp_config",
    response_model=LoginConfigAnswer,
)
async def get_otp_config(request: Request, app_id: str, login_config_id: str) -> JSONResponse:
    """One OTP login config."""
    config = await context_of(request).login_configs.otp.get(login_config_id, fresh=True)
    if config is None:
        raise NotFound("No such login config.")
    return _otp_answer(config)


@configuring.put(
    _ONE_OTP,
    operation_id="update_login_otp_config",
    response_model=LoginConfigAnswer,
    responses=errors(400),
    openapi_extra=json_body(OtpLoginConfigBody),
)
async def update_otp_config(request: Request, app_id: str, login_config_id: str) -> JSONResponse:
    """Replace an OTP login config (the same members as its creation)."""
    body = await read_json(request, OtpLoginConfigBody)
    config = await context_of(request).login_configs.otp.replace(login_config_id, body)
    return _otp_answer(config)


@configuring.delete(
    _ONE_OTP,
    operation_id="delete_login_otp_config",
    status_code=204,
    response_class=Response,
)
async def delete_otp_config(request: Request, app_id: str, login_config_id: str) -> Response:
    """Remove an OTP login config; with none left, both channels take codes again."""
    await context_of(request).login_configs.otp.delete(login_config_id)
    return Response(status_code=204)


# OAuth ---------------------------------------------------------------------------------
def _oauth_description(verb: str) -> str:
    return (
        f"{verb} a provider's config: google, apple, microsoft, github, okta or facebook "
        "(another name is 404). The client secret and Apple's key are never shown again."
    )


async def _write_oauth(request: Request, provider: str, status: int) -> JSONResponse:
    body = await read_json(request, OAuthLoginConfigBody)
    config = await context_of(request).login_configs.oauth.replace(provider, body)
    view = oauth_config_view(config).model_dump()
    return JSONResponse({"config": view}, status_code=status, headers=NO_STORE)


@configuring.post(
    _OAUTH,
    operation_id="create_login_oauth_config",
    status_code=201,
    response_model=OAuthConfigAnswer,
    responses=errors(400),
    openapi_extra=json_body(OAuthLoginConfigBody),
    description=_oauth_description("Set"),
)
async def create_oauth_config(request: Request, app_id: str, provider: str) -> JSONResponse:
    return await _write_oauth(request, provider, 201)


@configuring.put(
    _OAUTH,
    operation_id="update_login_oauth_config",
    response_model=OAuthConfigAnswer,
    responses=errors(400),
    openapi_extra=json_body(OAuthLoginConfigBody),
    description=_oauth_description("Replace"),
)
async def update_oauth_config(request: Request, app_id: str, provider: str) -> JSONResponse:
    return await _write_oauth(request, provider, 200)


@configuring.get(_OAUTH, operation_id="get_login_oauth_config", response_model=OAuthConfigAnswer)
async def get_oauth_config(request: Request, app_id: str, provider: str) -> JSONResponse:
    """A provider's config, from the settings while no config was set (no times then)."""
    config = await context_of(request).login_configs.oauth.view(provider)
    return JSONResponse({"config": oauth_config_view(config).model_dump()}, headers=NO_STORE)


@configuring.delete(
    _OAUTH, operation_id="delete_login_oauth_config", status_code=204, response_class=Response
)
async def delete_oauth_config(request: Request, app_id: str, provider: str) -> Response:
    """Drop the provider's config: its settings (if any) rule again."""
    await context_of(request).login_configs.oauth.delete(provider)
    return Response(status_code=204)


# Password ------------------------------------------------------------------------------
def _password_answer(config: PasswordLoginConfig, status: int = 200) -> JSONResponse:
    view = password_config_view(config).model_dump()
    return JSONResponse({"config": view}, status_code=status, headers=NO_STORE)


@configuring.get(
    _PASSWORD, operation_id="get_login_password_config", response_model=PasswordConfigAnswer
)
async def get_password_config(request: Request, app_id: str) -> JSONResponse:
    """The password login config in force: the settings' while none was set (no times)."""
    return _password_answer(await context_of(request).login_configs.password.current(fresh=True))


async def _write_password(request: Request, status: int) -> JSONResponse:
    body = await read_json(request, PasswordLoginConfigBody)
    return _password_answer(await context_of(request).login_configs.password.replace(body), status)


@configuring.put(
    _PASSWORD,
    operation_id="update_login_password_config",
    response_model=PasswordConfigAnswer,
    responses=errors(400),
    openapi_extra=json_body(PasswordLoginConfigBody),
)
async def update_password_config(request: Request, app_id: str) -> JSONResponse:
    """Set the password login config: every member is required."""
    return await _write_password(request, 200)


@configuring.post(
    _PASSWORD,
    operation_id="create_login_password_config",
    status_code=201,
    response_model=PasswordConfigAnswer,
    responses=errors(400),
    openapi_extra=json_body(PasswordLoginConfigBody),
)
async def create_password_config(request: Request, app_id: str) -> JSONResponse:
    """The same as ``PUT`` (Prelude's password guide creates the config with ``POST``)."""
    return await _write_password(request, 201)


@configuring.delete(
    _PASSWORD,
    operation_id="delete_login_password_config",
    status_code=204,
    response_class=Response,
)
async def delete_password_config(request: Request, app_id: str) -> Response:
    """Drop the config: the ``SESSILE_PASSWORD_*`` settings rule again."""
    await context_of(request).login_configs.password.delete()
    return Response(status_code=204)


router = APIRouter(prefix="/v2/session/apps/{app_id}", tags=["management"])
router.include_router(configuring)
