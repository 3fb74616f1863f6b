"""``/v1/session/login/oauth/{provider}/…``: social login on the wire of Prelude's SDK.

The browser that starts a login gets a binder cookie; the callback must come back in the
same browser, with it. It is ``SameSite=None`` (Secure) so that Apple's ``form_post``,
a cross-site POST, still carries it; in plain-http development it is ``Lax``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.config import Settings
from sessile.http.bodies import read_json
from sessile.http.client_facts import client_ip
from sessile.http.context import context_of
from sessile.http.routes.session import PREFIX

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, tags=["login"])

_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class AuthorizeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    redirect_uri: str = Field(min_length=1, max_length=2048)
    code_challenge: str = Field(min_length=1, max_length=128)
    code_challenge_method: str = Field(default="S256", max_length=20)
    dispatch_id: str | None = Field(default=None, max_length=200)


def _binder_cookie_name(settings: Settings) -> str:
    return "sessile_oauth" if settings.cookie_insecure_dev else "__Host-sessile_oauth"


def _binder_cookie(settings: Settings, value: str) -> str:
    parts = [
        f"{_binder_cookie_name(settings)}={value}",
        "Path=/",
        f"Max-Age={settings.oauth_state_ttl}",
        "HttpOnly",
    ]
    parts += ["SameSite=Lax"] if settings.cookie_insecure_dev else ["Secure", "SameSite=None"]
    return "; ".join(parts)


@router.get("/login/oauth/providers")
async def providers(request: Request) -> dict[str, list[str]]:
    """The providers this server can sign in with, for an app to show its buttons."""
    return {"providers": await context_of(request).oauth.providers()}


@router.post("/login/oauth/{provider}/authorize")
async def authorize(provider: str, request: Request) -> JSONResponse:
    """Start a social login: the provider's authorize URL for the browser to visit."""
    context = context_of(request)
    body = await read_json(request, AuthorizeBody)
    started = await context.oauth.start(
        provider,
        redirect_uri=body.redirect_uri,
        code_challenge=body.code_challenge,
        code_challenge_method=body.code_challenge_method,
        binder=request.cookies.get(_binder_cookie_name(context.settings)),
        ip=client_ip(request),
    )
    response = JSONResponse({"authorization_url": started.authorization_url}, headers=_NO_STORE)
    response.headers.append("Set-Cookie", _binder_cookie(context.settings, started.binder))
    return response


async def _callback(provider: str, request: Request, params: dict[str, str]) -> RedirectResponse:
    context = context_of(request)
    target = await context.oauth.callback(
        provider, params, request.cookies.get(_binder_cookie_name(context.settings))
    )
    return RedirectResponse(target, status_code=303, headers=_NO_STORE)


@router.get("/login/oauth/{provider}/callback")
async def callback(provider: str, request: Request) -> RedirectResponse:
    """The provider sends the browser back here; it goes on to the app's page."""
    return await _callback(provider, request, dict(request.query_params))


@router.post("/login/oauth/{provider}/callback")
async def callback_form_post(provider: str, request: Request) -> RedirectResponse:
    """Apple's ``response_mode=form_post``: the same answer, as a form."""
    raw = (await request.body()).decode("utf-8", "replace")
    params = dict(request.query_params)
    params.update(parse_qsl(raw, keep_blank_values=True))
    return await _callback(provider, request, params)
