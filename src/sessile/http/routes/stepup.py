"""``/v1/session/stepup/…`` and the code routes ``/v1/session/otp…`` (DESIGN §12,
PRELUDE-API §2.18 to §2.22).

``/stepup/request`` and ``/stepup/continue`` take the Bearer access token. The calls that
prove a step (``/otp/check`` with a challenge token, ``/stepup/continue``,
``/stepup/password``) also take a DPoP proof by the session's key whose ``jti`` is the
challenge token's. ``/otp`` and ``/otp/retry`` ride on the challenge token and the
verification cookie, as Prelude's SDK calls them.

``/otp`` and ``/otp/check`` without a step-up challenge token are the standalone code login:
``/otp`` with an identifier (and a PKCE ``code_challenge``) sends a code, or with the
challenge token of a social login whose address must be proven first; ``/otp/check``
then answers a ``session-start`` challenge token for ``/login/finalize``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.errors import MissingChallengeToken
from sessile.http.bearer import bearer_caller
from sessile.http.bodies import read_json
from sessile.http.client_facts import client_facts, client_ip
from sessile.http.context import context_of
from sessile.http.cookies import clear_verification, read_verification, set_verification
from sessile.http.dpop import dpop_of
from sessile.http.routes.session import PREFIX
from sessile.identifiers import parse_identifier
from sessile.login.configs.otp import channel_of
from sessile.stepup.hook import platform_of
from sessile.stepup.service import RequestFacts

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, tags=["step-up"])

_NO_STORE = {"Cache-Control": "no-store"}
#: A step-up challenge token is a JWT; a code login's is ``otp_<id>.<secret>``.
_LOGIN_TOKEN_PREFIX = "otp_"


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    scope: str = Field(min_length=1, max_length=200)
    metadata: Any = None
    dispatch_id: str | None = Field(default=None, max_length=200)


class ChallengeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    challenge_token: str | None = Field(default=None, max_length=8192)
    dispatch_id: str | None = Field(default=None, max_length=200)


class OtpBody(ChallengeBody):
    identifier: dict[str, Any] | None = None
    code_challenge: str | None = Field(default=None, min_length=43, max_length=128)
    login_config_id: str | None = Field(default=None, max_length=64)


class ContinueBody(ChallengeBody):
    verification_token: str | None = Field(default=None, max_length=8192)


class CodeBody(ChallengeBody):
    code: str = Field(min_length=1, max_length=20)


class PasswordBody(ChallengeBody):
    password: str = Field(min_length=1, max_length=1024)


def _is_stepup(token: str | None) -> bool:
    return bool(token) and not str(token).startswith(_LOGIN_TOKEN_PREFIX)


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
        facts=RequestFacts(
            ip=facts.ip,
            user_agent=facts.user_agent,
            platform=platform_of(
                request.headers.get("x-sdk-user-agent"), request.headers.get("x-device-id")
            ),
        ),
    )
    answer: dict[str, str] = {"status": status}
    if token is not None:
        answer["challenge_token"] = token
    return JSONResponse(answer, headers=_NO_STORE)


@router.post("/stepup/continue")
async def continue_step_up(request: Request) -> JSONResponse:
    """Move past the app's own step with the verification token its backend signed."""
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
    """Prove the password step (``verify_password``): the challenge moves on."""
    context = context_of(request)
    proof = await dpop_of(request).verify_challenge_proof(request)
    body = await read_json(request, PasswordBody)
    token = await context.stepup.check_password(body.challenge_token, body.password, proof=proof)
    return JSONResponse({"challenge_token": token}, headers=_NO_STORE)


@router.post("/otp", status_code=204)
async def send_code(request: Request) -> Response:
    """Send a code: the current step's of a step-up challenge, a code login's to an
    identifier, or a social login's to the address it must prove."""
    context = context_of(request)
    body = await read_json(request, OtpBody)
    ip = client_ip(request)
    if _is_stepup(body.challenge_token):
        verification = await context.stepup.send_code(body.challenge_token, ip=ip)
    elif body.challenge_token:
        verification = await context.otp.send_pending(body.challenge_token, ip=ip)
    elif body.identifier is not None:
        identifier = parse_identifier(body.identifier)
        config = await context.login_configs.otp.pick(
            channel_of(identifier.type), body.login_config_id
        )
        verification = await context.otp.start(
            identifier,
            ip=ip,
            code_challenge=body.code_challenge,
            login_config_id=config.id if config is not None else None,
        )
    else:
        raise MissingChallengeToken("Give a challenge_token (step-up) or an identifier.")
    response = Response(status_code=204, headers=_NO_STORE)
    set_verification(request, response, context.settings, verification)
    return response


@router.post("/otp/retry", status_code=204)
async def resend_code(request: Request) -> Response:
    context = context_of(request)
    await context.otp.resend(read_verification(request, context.settings), ip=client_ip(request))
    return Response(status_code=204)


@router.post("/otp/check")
async def check_code(request: Request) -> JSONResponse:
    """Prove a code: ``{challenge_token}``, the step-up challenge moved on (``completed``
    after its last step), or a code login's ``session-start`` token for
    ``/login/finalize``."""
    context = context_of(request)
    verification = read_verification(request, context.settings)
    body = await read_json(request, CodeBody)
    if _is_stepup(body.challenge_token):
        proof = await dpop_of(request).verify_challenge_proof(request)
        token = await context.stepup.check_code(
            body.challenge_token, body.code, verification=verification, proof=proof
        )
    else:
        token = await context.code_login.check(verification, body.code)
    response = JSONResponse({"challenge_token": token}, headers=_NO_STORE)
    clear_verification(response, context.settings)
    return response
