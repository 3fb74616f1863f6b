"""``/v1/session/me`` and the account changes behind step-up scopes (DESIGN §12)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.errors import NotFound
from sessile.http.bearer import Caller, bearer_caller
from sessile.http.bodies import read_json
from sessile.http.client_facts import client_facts
from sessile.http.context import context_of
from sessile.http.cookies import clear_verification, read_verification, set_verification
from sessile.http.views import user_view
from sessile.identifiers import parse_identifier
from sessile.stepup.account import require_grant, scope_for_identifier

__all__ = ["router"]

router = APIRouter(prefix="/v1/session/me", tags=["account"])

_NO_STORE = {"Cache-Control": "no-store"}


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    password: str = Field(min_length=1, max_length=1024)


class IdentifierBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    identifier: dict[str, Any]


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(min_length=1, max_length=20)


def _granted(request: Request, caller: Caller, scope: str) -> None:
    require_grant(caller.session, caller.scopes, scope, context_of(request).clock.now())


@router.get("")
async def profile(request: Request) -> JSONResponse:
    """The caller's user: identifiers (with ``verified``), profile, and the session's grant."""
    caller = await bearer_caller(request)
    context = context_of(request)
    user = await context.users.get(caller.user_id)
    if user is None:
        raise NotFound("No such user.")
    view = user_view(user)
    view["session_id"] = caller.session.id
    view["scope"] = " ".join(sorted(caller.scopes))
    return JSONResponse(view, headers=_NO_STORE)


@router.post("/password/reset")
async def reset_password(request: Request) -> JSONResponse:
    """A new password, with ``prld:pwd:write``; other sessions end (a setting)."""
    caller = await bearer_caller(request)
    _granted(request, caller, "prld:pwd:write")
    body = await read_json(request, PasswordBody)
    ended = await context_of(request).account.change_password(caller.session, body.password)
    return JSONResponse({"revoked_sessions": ended}, headers=_NO_STORE)


@router.post("/identifiers")
async def add_identifier(request: Request) -> JSONResponse:
    """Send a code to a new e-mail address or phone; ``/identifiers/check`` adds it."""
    caller = await bearer_caller(request)
    body = await read_json(request, IdentifierBody)
    identifier = parse_identifier(body.identifier)
    _granted(request, caller, scope_for_identifier(identifier.type))
    context = context_of(request)
    verification = await context.account.start_identifier(
        caller.session, identifier, ip=client_facts(request).ip
    )
    response = JSONResponse({"status": "otp_required"}, headers=_NO_STORE)
    set_verification(response, context.settings, verification)
    return response


@router.post("/identifiers/check")
async def check_identifier(request: Request) -> JSONResponse:
    """Check the new identifier's code and add it, proven, to the account."""
    caller = await bearer_caller(request)
    context = context_of(request)
    now = context.clock.now()
    granted = caller.session.granted(now)
    if granted not in ("prld:email:register", "prld:phone:register"):
        _granted(request, caller, "prld:email:register")
    body = await read_json(request, CodeBody)
    added = await context.account.check_identifier(
        caller.session,
        read_verification(request, context.settings),
        body.code,
        allowed=lambda kind: require_grant(
            caller.session, caller.scopes, scope_for_identifier(kind), now
        ),
    )
    response = JSONResponse(
        {"identifier": {"type": added.type, "value": added.value, "verified": True}},
        headers=_NO_STORE,
    )
    clear_verification(response, context.settings)
    return response


@router.post("/identifiers/remove")
async def remove_identifier(request: Request) -> JSONResponse:
    """Remove an identifier, with its type's register scope; never the last one."""
    caller = await bearer_caller(request)
    body = await read_json(request, IdentifierBody)
    identifier = parse_identifier(body.identifier)
    _granted(request, caller, scope_for_identifier(identifier.type))
    await context_of(request).account.remove_identifier(caller.session, identifier)
    return JSONResponse({"removed": True}, headers=_NO_STORE)
