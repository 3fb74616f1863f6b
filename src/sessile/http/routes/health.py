"""``/healthz`` (the process answers) and ``/readyz`` (the database answers too)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sessile.errors import ServiceUnavailable
from sessile.http.context import context_of
from sessile.http.errors import error_response

__all__ = ["router"]

log = logging.getLogger("sessile.health")
router = APIRouter(tags=["operations"])

_READY_TIMEOUT = 3.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> dict[str, str] | JSONResponse:
    try:
        await asyncio.wait_for(context_of(request).db.ping(), _READY_TIMEOUT)
    except Exception as exc:  # any failure to answer means not ready
        log.warning("database not reachable", extra={"error": type(exc).__name__})
        return error_response(ServiceUnavailable("The database is not reachable."))
    return {"status": "ok", "database": "ok"}
