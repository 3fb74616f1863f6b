"""``/v1/session/login/…`` and ``/password/compliancy``: getting in (DESIGN §2, §6)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.errors import IdentifierAlreadyExists, InvalidIdentifier
from sessile.http.bodies import read_json
from sessile.http.client_facts import client_facts, client_ip
from sessile.http.context import context_of
from sessile.http.cookies import clear_verification, read_verification, set_verification
from sessile.http.dpop import DPoPRoute, dpop_of
from sessile.http.routes.session import PREFIX, tokens_response
from sessile.identifiers import parse_identifier
from sessile.login.configs.otp import channel_of
from sessile.login.otp import OtpResult
from sessile.sessions import IssuedTokens
from sessile.store.user_identifiers import Identifier

__all__ = ["dpop_router", "router"]

router = APIRouter(prefix=PREFIX, tags=["login"])
dpop_router = APIRouter(prefix=PREFIX, route_class=DPoPRoute, tags=["login"])


class StartOtpBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    identifier: dict[str, Any]
    login_config_id: str | None = Field(default=None, max_length=200)
    dispatch_id: str | None = Field(default=None, max_length=200)


class CheckOtpBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(min_length=1, max_length=20)


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    #: An e-mail address, as Prelude's SDK sends it, or ``{type, value}``.
    identifier: str | dict[str, Any]
    password: str = Field(min_length=1, max_length=1024)
    dispatch_id: str | None = Field(default=None, max_length=200)


def _email(raw: str | dict[str, Any]) -> Identifier:
    """The password routes take an e-mail address, bare or as ``{type, value}``."""
    if isinstance(raw, str):
        return parse_identifier({"type": "email_address", "value": raw})
    identifier = parse_identifier(
        {"type": raw.get("type", "email_address"), "value": raw.get("value")}
    )
    if identifier.type != "email_address":
        raise InvalidIdentifier("Password login takes an e-mail address.")
    return identifier


@router.post("/login/otp", status_code=204)
async def start_otp(request: Request) -> Response:
    """Send a one-time code. The answer is the same whether or not the account exists.
    The OTP login configs say which channels take codes; ``login_config_id`` names one."""
    context = context_of(request)
    body = await read_json(request, StartOtpBody)
    identifier = parse_identifier(body.identifier)
    config = await context.login_configs.otp.pick(channel_of(identifier.type), body.login_config_id)
    token = await context.otp.start(
        identifier,
        ip=client_ip(request),
        login_config_id=config.id if config is not None else None,
    )
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    set_verification(request, response, context.settings, token)
    return response


@router.post("/login/otp/retry", status_code=204)
async def retry_otp(request: Request) -> Response:
    context = context_of(request)
    await context.otp.resend(read_verification(request, context.settings), ip=client_ip(request))
    return Response(status_code=204)


@dpop_router.post("/login/otp/check")
async def check_otp(request: Request) -> JSONResponse:
    """Check the code; the session is created here, bound to the proof's key, with what
    the login's config grants."""
    context = context_of(request)
    proof = await dpop_of(request).verify(request)
    body = await read_json(request, CheckOtpBody)
    result = await context.otp.check(
        read_verification(request, context.settings),
        body.code,
        unbound_logins_only=True,
        deferred_user=True,
    )
    grant = await context.login_configs.grants.for_login(result.auth_method, result.login_config_id)
    client = client_facts(request)

    async def open_session(result: OtpResult) -> IssuedTokens:
        return await context.sessions.create(
            user_id=result.user_id,
            jkt=proof.jkt,
            auth_method=result.auth_method,
            client=client,
            newest_proof=(proof.iat, proof.jti),
            granted_scope=grant.scope if grant else None,
            granted_until=grant.until if grant else None,
            new_user=result.new_user,
        )

    try:
        # A new user is made with the session, in one transaction.
        issued = await open_session(result)
    except IdentifierAlreadyExists:
        if result.new_user is None:
            raise
        # Another login for the same identifier made its user a moment ago.
        issued = await open_session(await context.otp.made_meanwhile(result))
    response = tokens_response(request, issued)
    clear_verification(response, context.settings)
    return response


@router.post("/login/email/password")
async def password_login(request: Request) -> JSONResponse:
    context = context_of(request)
    body = await read_json(request, PasswordBody)
    identifier = _email(body.identifier)
    token = await context.email_password.login(identifier, body.password, ip=client_ip(request))
    return JSONResponse({"challenge_token": token}, headers={"Cache-Control": "no-store"})


@router.post("/login/email/sign-up")
async def sign_up(request: Request) -> JSONResponse:
    """Sign up. By default the address is proven first: the answer carries the code
    challenge (also set as the verification cookie) and ``status: "otp_required"``, the
    same whether or not the address already has an account; ``/login/otp/check`` then
    makes the user and the session."""
    context = context_of(request)
    body = await read_json(request, PasswordBody)
    identifier = _email(body.identifier)
    signed_up = await context.email_password.sign_up(
        identifier, body.password, ip=client_ip(request)
    )
    if signed_up.verification_token is None:
        return JSONResponse(
            {"challenge_token": signed_up.challenge_token}, headers={"Cache-Control": "no-store"}
        )
    # Prelude's SDK passes challenge_token to /login/finalize, which answers otp_required.
    response = JSONResponse(
        {"challenge_token": signed_up.verification_token, "status": "otp_required"},
        headers={"Cache-Control": "no-store"},
    )
    set_verification(request, response, context.settings, signed_up.verification_token)
    return response


@router.get("/password/compliancy")
async def password_compliancy(request: Request) -> dict[str, Any]:
    """The policy every new password is checked against (the password login config's)."""
    return (await context_of(request).passwords.current_policy()).as_dict()
