"""``/v2/session/apps/{app_id}/users``: the management API for users (DESIGN §7)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(prefix="/v2/session/apps/{app_id}", tags=["management"])
