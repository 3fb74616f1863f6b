"""``/v1/session/stepup/…`` and the code steps ``/v1/session/otp…`` (DESIGN §12).

``/stepup/request`` and ``/stepup/continue`` take the Bearer access token; ``/otp/check``,
``/stepup/password`` and ``/stepup/continue`` also a DPoP proof whose ``jti`` is the
challenge token's, from the session's key. ``/otp`` and ``/otp/retry`` ride on the
challenge token and the verification cookie, as Prelude's SDK calls them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.http.bearer import bearer_caller
from sessile.http.bodies import read_json
from sessile.http.client_facts import client_facts
from sessile.http.context import context_of
from sessile.http.cookies import clear_verification, read_verification, set_verification
from sessile.http.dpop import dpop_of
from sessile.http.routes.session import PREFIX

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, tags=["step-up"])

_NO_STORE = {"Cache-Control": "no-store"}


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    scope: str = Field(min_length=1, max_length=200)
    metadata: Any = None
    dispatch_id: str | None = Field(default=None, max_length=200)


class ChallengeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    challenge_token: str | None = Field(default=None, max_length=8192)
    dispatch_id: str | None = Field(default=None, max_length=200)


class ContinueBody(ChallengeBody):
    verification_token: str | None = Field(default=None, max_length=8192)


class CodeBody(ChallengeBody):
    code: str = Field(min_length=1, max_length=20)


class PasswordBody(ChallengeBody):
    password: str = Field(min_length=1, max_length=1024)


@router.post("/stepup/request")
async def request_step_up(request: Request) -> JSONResponse:
    """Ask for a scope: ``{status, challenge_token?}``; ``block`` carries no challenge."""
    caller = await bearer_caller(request)
    body = await read_json(request, RequestBody)
    facts = client_facts(request)
    status, token = await context_of(request).stepup.request(
        caller.session,
        scope=body.scope,
        metadata=body.metadata,
        ip=facts.ip,
        user_agent=facts.user_agent,
    )
    answer: dict[str, str] = {"status": status}
    if token is not None:
        answer["challenge_token"] = token
    return JSONResponse(answer, headers=_NO_STORE)


@router.post("/stepup/continue")
async def continue_step_up(request: Request) -> JSONResponse:
    """Move past a proven step with its verification token."""
    caller = await bearer_caller(request)
    context = context_of(request)
    proof = await dpop_of(request).verify_challenge_proof(request)
    body = await read_json(request, ContinueBody)
    token = await context.stepup.proceed(
        caller.session, body.challenge_token, body.verification_token, proof=proof
    )
    return JSONResponse({"challenge_token": token}, headers=_NO_STORE)


@router.post("/stepup/password")
async def password_step(request: Request) -> JSONResponse:
    """Prove the password step: ``{challenge_token, verification_token}``."""
    context = context_of(request)
    proof = await dpop_of(request).verify_challenge_proof(request)
    body = await read_json(request, PasswordBody)
    token, verification = await context.stepup.check_password(
        body.challenge_token, body.password, proof=proof
    )
    return JSONResponse(
        {"challenge_token": token, "verification_token": verification}, headers=_NO_STORE
    )


@router.post("/otp")
async def send_step_code(request: Request) -> JSONResponse:
    """Send the current code step's code to the user's proven address or phone."""
    context = context_of(request)
    body = await read_json(request, ChallengeBody)
    verification = await context.stepup.send_code(body.challenge_token, ip=client_facts(request).ip)
    response = JSONResponse({}, headers=_NO_STORE)
    set_verification(response, context.settings, verification)
    return response


@router.post("/otp/retry")
async def resend_step_code(request: Request) -> JSONResponse:
    context = context_of(request)
    await context.otp.resend(
        read_verification(request, context.settings), ip=client_facts(request).ip
    )
    return JSONResponse({})


@router.post("/otp/check")
async def check_step_code(request: Request) -> JSONResponse:
    """Prove the code step: ``{challenge_token, verification_token}``."""
    context = context_of(request)
    proof = await dpop_of(request).verify_challenge_proof(request)
    body = await read_json(request, CodeBody)
    token, verification = await context.stepup.check_code(
        body.challenge_token,
        body.code,
        verification=read_verification(request, context.settings),
        proof=proof,
    )
    response = JSONResponse(
        {"challenge_token": token, "verification_token": verification}, headers=_NO_STORE
    )
    clear_verification(response, context.settings)
    return response
