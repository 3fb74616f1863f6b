"""``/v1/session/me`` and the account changes behind step-up scopes (DESIGN §12,
PRELUDE-API §2.15, §2.17): the caller's identifiers, a new password with
``prld:pwd:write`` (spent by the change), and removing an identifier. Identifiers are
added only by the register step-up (``prld:email:register``, ``prld:phone:register``),
whose code check is bound to the session's key.

A leaked access token alone must not change the account. Removing an identifier (a
sessile call) needs a DPoP proof by the session's own key, checked as on ``/refresh``
(RFC 9449 §4.3 and §8: ``htm``, ``htu``, freshness by the server's nonce, each proof once).
Elsewhere here a proof is optional, since Prelude's clients send none on
``/me/password/reset``; but a proof that is sent must be the session's key. Every answer
carries a ``DPoP-Nonce``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.errors import DPoPKeyMismatch, NotFound
from sessile.http.bearer import Caller, bearer_caller
from sessile.http.bodies import read_json
from sessile.http.context import context_of
from sessile.http.dpop import DPoPRoute, dpop_of
from sessile.http.views import user_view
from sessile.identifiers import parse_identifier
from sessile.stepup.account import require_grant, scope_for_identifier

__all__ = ["router"]

router = APIRouter(prefix="/v1/session/me", route_class=DPoPRoute, tags=["account"])

_NO_STORE = {"Cache-Control": "no-store"}


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    password: str = Field(min_length=1, max_length=1024)


class IdentifierBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    identifier: dict[str, Any]


def _granted(request: Request, caller: Caller, scope: str) -> None:
    require_grant(caller.session, caller.scopes, scope, context_of(request).clock.now())


async def _session_proof(request: Request, caller: Caller, *, required: bool) -> None:
    """The request's DPoP proof, when it has one or ``required``, is valid and by the key
    that holds the caller's session."""
    if not required and "dpop" not in request.headers:
        return
    proof = await dpop_of(request).verify(request)
    if proof.jkt != caller.session.jkt:
        raise DPoPKeyMismatch("The DPoP proof is not by the key that holds this session.")


async def _account_caller(request: Request, *, proof_required: bool = False) -> Caller:
    """The Bearer caller, and its session's proof as :func:`_session_proof` wants it."""
    caller = await bearer_caller(request)
    await _session_proof(request, caller, required=proof_required)
    return caller


@router.get("")
async def profile(request: Request) -> JSONResponse:
    """The caller's user: identifiers (with ``verified``), profile, and the session's grant."""
    caller = await _account_caller(request)
    context = context_of(request)
    user = await context.users.get(caller.user_id)
    if user is None:
        raise NotFound("No such user.")
    view = user_view(user)
    view["session_id"] = caller.session.id
    view["scope"] = " ".join(sorted(caller.scopes))
    return JSONResponse(view, headers=_NO_STORE)


@router.get("/identifiers")
async def list_identifiers(request: Request) -> JSONResponse:
    """``{identifiers: [{type, value, verified}]}``: the caller's e-mail addresses and phone
    numbers, e-mail addresses first."""
    caller = await _account_caller(request)
    user = await context_of(request).users.get(caller.user_id)
    if user is None:
        raise NotFound("No such user.")
    identifiers = [
        {"type": i.type, "value": i.value, "verified": i in user.proven}
        for i in sorted(user.identifiers, key=lambda i: (i.type != "email_address", i.value))
    ]
    return JSONResponse({"identifiers": identifiers}, headers=_NO_STORE)


@router.post("/password/reset", status_code=204)
async def reset_password(request: Request) -> Response:
    """A new password, with ``prld:pwd:write``, which the change spends; other sessions
    end (a setting)."""
    caller = await _account_caller(request)
    _granted(request, caller, "prld:pwd:write")
    body = await read_json(request, PasswordBody)
    await context_of(request).account.change_password(caller.session, body.password)
    return Response(status_code=204, headers=_NO_STORE)


@router.post("/identifiers/remove")
async def remove_identifier(request: Request) -> JSONResponse:
    """Remove an identifier, with its type's register scope and a proof by the session's
    key; never the last one, and the oldest proven one only as ``stepup/account.py`` says."""
    caller = await _account_caller(request, proof_required=True)
    body = await read_json(request, IdentifierBody)
    identifier = parse_identifier(body.identifier)
    _granted(request, caller, scope_for_identifier(identifier.type))
    await context_of(request).account.remove_identifier(caller.session, identifier)
    return JSONResponse({"removed": True}, headers=_NO_STORE)
