"""``GET /v2/session/apps/{app_id}/audit``: the audit trail, oldest first, by cursor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sessile.api_scopes import AUDIT
from sessile.audit import AUDIT_TYPES
from sessile.errors import BadRequest
from sessile.http.api_key import api_key
from sessile.http.context import context_of
from sessile.http.openapi import NO_STORE, errors
from sessile.http.views import rfc3339

__all__ = ["router"]

router = APIRouter(
    prefix="/v2/session/apps/{app_id}", tags=["management"], dependencies=[api_key(AUDIT)]
)


class AuditEventView(BaseModel):
    id: int
    type: str
    user_id: str | None
    actor: str
    ip: str | None
    user_agent: str | None
    at: str
    data: dict[str, Any]


class AuditPage(BaseModel):
    events: list[AuditEventView]
    cursor: int


@router.get(
    "/audit",
    operation_id="list_audit_events",
    response_model=AuditPage,
    responses=errors(400),
)
async def list_audit_events(
    request: Request,
    app_id: str,
    user_id: str | None = Query(default=None, max_length=40),
    type: str | None = Query(default=None, json_schema_extra={"enum": list(AUDIT_TYPES)}),
    after: int = Query(default=0, ge=0, le=2**62, description="The cursor of the last page."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> JSONResponse:
    """Security events (``type``, ``actor``, ``ip``, ``user_agent``, ``at``, ``data``),
    oldest first; pass the answer's ``cursor`` as ``after`` for the next page."""
    if type is not None and type not in AUDIT_TYPES:
        raise BadRequest(f"type is one of {', '.join(AUDIT_TYPES)}.")
    rows = await context_of(request).audit.page(
        user_id=user_id, event_type=type, after=after, limit=limit
    )
    return JSONResponse(
        {
            "events": [
                {
                    "id": r.id,
                    "type": r.type,
                    "user_id": r.user_id,
                    "actor": r.actor,
                    "ip": r.ip,
                    "user_agent": r.user_agent,
                    "at": rfc3339(r.at),
                    "data": dict(r.data),
                }
                for r in rows
            ],
            "cursor": rows[-1].id if rows else after,
        },
        headers=NO_STORE,
    )
