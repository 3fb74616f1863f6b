"""``GET /v2/session/apps/{app_id}/revocations``: the revocation feed for backends.

Backends poll with ``?after=<cursor>`` and reject access tokens of the sessions
(and users) listed, instead of waiting for those tokens to expire.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from sessile.api_scopes import REVOCATIONS_READ
from sessile.http.api_key import api_key
from sessile.http.context import context_of

__all__ = ["router"]

router = APIRouter(
    prefix="/v2/session/apps/{app_id}",
    tags=["management"],
    dependencies=[api_key(REVOCATIONS_READ)],
)


@router.get("/revocations")
async def revocations(
    request: Request,
    app_id: str,
    after: int = Query(
        default=0, ge=0, le=2**62, description="The cursor from the previous answer."
    ),
    limit: int = Query(default=500, ge=1, le=5000),
) -> JSONResponse:
    """Revoked sessions (``session_id``) and user-wide revocations (``session_id`` null:
    every token of the user issued before ``revoked_at``), oldest first."""
    page = await context_of(request).revocation_feed.page(after, limit=limit)
    return JSONResponse(
        {
            "revocations": [
                {
                    "seq": r.seq,
                    "user_id": r.user_id,
                    "session_id": r.session_id,
                    "revoked_at": r.revoked_at,
                }
                for r in page.revocations
            ],
            "cursor": page.cursor,
            "poll_after": 1,
        },
        headers={"Cache-Control": "no-store"},
    )
