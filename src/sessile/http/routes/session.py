"""``/v1/session``: finalize a login, refresh, log out (DESIGN §2). All are DPoP routes."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sessile.context import AppContext
from sessile.dpop.proof import ValidatedProof
from sessile.errors import DPoPKeyMismatch, InvalidChallengeToken, SessileError, Unauthorized
from sessile.http.bodies import read_json
from sessile.http.client_facts import client_facts, client_ip
from sessile.http.context import context_of
from sessile.http.cookies import (
    REFRESH_HEADER,
    clear_refresh,
    read_refresh,
    set_refresh,
    set_verification,
)
from sessile.http.dpop import DPoPRoute, dpop_of
from sessile.sessions import IssuedTokens
from sessile.sessions.refresh_tokens import parse_token

__all__ = ["PREFIX", "RefreshBody", "rotate", "router", "tokens_response"]

PREFIX = "/v1/session"
router = APIRouter(prefix=PREFIX, route_class=DPoPRoute, tags=["session"])


class FinalizeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    challenge_token: str = Field(min_length=1, max_length=4096)
    code_verifier: str | None = Field(default=None, max_length=256)


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    step_up_token: str | None = Field(default=None, max_length=4096)


def tokens_response(request: Request, issued: IssuedTokens) -> JSONResponse:
    """``{access_token, expires_at}`` plus the refresh token in the cookie or header."""
    context = context_of(request)
    response = JSONResponse(
        {"access_token": issued.access_token, "expires_at": issued.access_expires_at},
        headers={"Cache-Control": "no-store"},
    )
    set_refresh(
        request,
        response,
        context.settings,
        token=issued.refresh_token,
        expires_at=issued.refresh_expires_at,
        now=context.clock.now(),
    )
    return response


@router.post("/login/finalize")
async def finalize(request: Request) -> JSONResponse:
    """Trade a challenge token for a session bound to the proof's key."""
    context = context_of(request)
    proof = await dpop_of(request).verify(request)
    body = await read_json(request, FinalizeBody)
    if body.challenge_token.startswith("otp_"):
        # A sign-up, or a social login, whose address must be proven first: no session until
        # its code checks. A social login's code is sent only now, given its PKCE verifier.
        if not await context.otp.pending(
            body.challenge_token, body.code_verifier, ip=client_ip(request)
        ):
            raise InvalidChallengeToken("The challenge token is invalid, used or expired.")
        pending = JSONResponse({"status": "otp_required"}, headers={"Cache-Control": "no-store"})
        set_verification(request, pending, context.settings, body.challenge_token)
        return pending
    issued = await context.finalizer.finalize(
        body.challenge_token,
        body.code_verifier,
        jkt=proof.jkt,
        client=client_facts(request),
        newest_proof=(proof.iat, proof.jti),
    )
    previous = request.headers.get(REFRESH_HEADER)
    if previous:
        # The client's previous session ends once the new one exists (PRELUDE-API §2.9),
        # only when its key is this proof's: nobody ends a session with a token alone.
        with contextlib.suppress(DPoPKeyMismatch):
            await context.sessions.logout(previous, jkt=proof.jkt)
    return tokens_response(request, issued)


async def rotate(
    context: AppContext,
    proof: ValidatedProof,
    presented: str | None,
    body: Callable[[], Awaitable[RefreshBody]],
) -> IssuedTokens:
    """The refresh once its proof passed every check but replay: read the body, redeem a
    step-up token if it holds one, then rotate. The proof's replay check rides in the
    rotation (SessionService.refresh); a refusal before it uses the proof up, as on
    every DPoP route. For this route and for :class:`~sessile.http.lane.RefreshLane`.
    """
    grant = None
    try:
        step_up_token = (await body()).step_up_token
        if not presented:
            raise Unauthorized("No refresh token: log in first.")
        if step_up_token:
            # The slower path of a step-up: grant the scope to the session the refresh
            # token names (held by this proof's key), then rotate as usual; the new access
            # token reads the grant from the rotated row.
            named = parse_token(presented)
            if named is None:
                raise Unauthorized("The refresh token is invalid, expired or revoked.")
            grant = await context.stepup.redeem(
                step_up_token, session_id=named.session_id, jkt=proof.jkt
            )
    except SessileError:
        # Used up in the replay store and on its key's sessions: the common path, which
        # reads only the sessions, must not take it later either.
        await context.sessions.spend_proof(proof, context.replay)
        raise
    try:
        return await context.sessions.refresh(presented, proof=proof, replay=context.replay)
    finally:
        if grant is not None:
            await context.stepup.settle(grant)


@router.post("/refresh")
async def refresh(request: Request) -> JSONResponse:
    """Rotate the refresh token and mint an access token.

    :class:`~sessile.http.lane.RefreshLane` answers the requests with no body, which are
    nearly all of them, ahead of FastAPI; this route answers the rest.
    """
    context = context_of(request)
    proof = await dpop_of(request).check(request)
    presented = read_refresh(request, context.settings)
    issued = await rotate(context, proof, presented, lambda: read_json(request, RefreshBody))
    return tokens_response(request, issued)


@router.post("/revoke", status_code=204)
async def logout(request: Request) -> Response:
    """Revoke the caller's session and clear the cookie.

    A client without a DPoP key (it never logged in here) sends no proof: its
    cookie is cleared and nothing is revoked, since nothing proves the session is its.
    """
    context = context_of(request)
    if "dpop" in request.headers:
        proof = await dpop_of(request).verify(request)
        presented = read_refresh(request, context.settings)
        await context.sessions.logout(presented, jkt=proof.jkt)
    response = Response(status_code=204)
    clear_refresh(response, context.settings)
    return response
