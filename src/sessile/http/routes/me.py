"""``/v1/session/me``: the caller's sessions, listed and revoked with a Bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sessile.errors import BadRequest
from sessile.http.bearer import bearer_caller
from sessile.http.context import context_of
from sessile.http.cookies import clear_refresh
from sessile.http.paging import paging
from sessile.http.views import session_page
from sessile.sessions import RevokeTarget

__all__ = ["router"]

router = APIRouter(prefix="/v1/session/me", tags=["session"])

_TARGETS: dict[str, RevokeTarget] = {
    "all": "all",
    "others": "others",
    "mine": "mine",
    "session": "session",
}


@router.get("/list")
async def list_sessions(request: Request) -> JSONResponse:
    caller = await bearer_caller(request)
    limit, offset = paging(request)
    context = context_of(request)
    rows, total = await context.sessions.list(caller.user_id, limit=limit, offset=offset)
    page = session_page(rows, total, limit=limit, offset=offset, ends_at=context.sessions.ends_at)
    return JSONResponse(page, headers={"Cache-Control": "no-store"})


@router.post("/revoke")
async def revoke_sessions(request: Request) -> JSONResponse:
    caller = await bearer_caller(request)
    target = _TARGETS.get(request.query_params.get("target", ""))
    if target is None:
        raise BadRequest("target must be one of all, others, mine, session.")
    session_id = request.query_params.get("session_id")
    context = context_of(request)
    revoked = await context.sessions.revoke(
        user_id=caller.user_id,
        current_session_id=caller.session.id,
        target=target,
        session_id=session_id,
    )
    response = JSONResponse({"revoked": revoked})
    if target in ("all", "mine") or session_id == caller.session.id:
        clear_refresh(response, context.settings)
    return response
