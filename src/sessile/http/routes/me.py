"""``/v1/session/me``: the caller's sessions, listed and revoked with a Bearer token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sessile.errors import BadRequest, InvalidPaginationLimit, InvalidPaginationOffset
from sessile.http.bearer import bearer_caller
from sessile.http.context import context_of
from sessile.http.cookies import clear_refresh
from sessile.sessions import RevokeTarget
from sessile.store.sessions import SessionRow

__all__ = ["router"]

router = APIRouter(prefix="/v1/session/me", tags=["session"])

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_TARGETS: dict[str, RevokeTarget] = {
    "all": "all",
    "others": "others",
    "mine": "mine",
    "session": "session",
}


def _rfc3339(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def session_view(row: SessionRow, idle_timeout: float) -> dict[str, Any]:
    """Exactly the fields of DESIGN §2: never a token or a hash."""
    return {
        "id": row.id,
        "device_type": row.device_type,
        "device_model": row.device_model,
        "os_version": row.os_version,
        "country_code": row.country_code,
        "created_at": _rfc3339(row.created_at),
        "last_seen_at": _rfc3339(row.last_seen_at),
        "expires_at": _rfc3339(min(row.expires_at, row.last_seen_at + idle_timeout)),
    }


def _int_param(request: Request, name: str, default: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


@router.get("/list")
async def list_sessions(request: Request) -> JSONResponse:
    caller = await bearer_caller(request)
    limit = _int_param(request, "limit", DEFAULT_LIMIT)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise InvalidPaginationLimit()
    offset = _int_param(request, "offset", 0)
    if offset is None or offset < 0:
        raise InvalidPaginationOffset()
    context = context_of(request)
    rows, total = await context.sessions.list(caller.user_id, limit=limit, offset=offset)
    idle = context.settings.session_idle_timeout
    return JSONResponse(
        {
            "sessions": [session_view(r, idle) for r in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        },
        headers={"Cache-Control": "no-store"},
    )


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
