"""``limit`` and ``offset`` query parameters, with the wire errors for bad ones."""

from __future__ import annotations

from starlette.requests import Request

from sessile.errors import InvalidPaginationLimit, InvalidPaginationOffset

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_OFFSET", "paging"]

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
#: Past this no page can hold anything; it also keeps the number inside a 64-bit integer.
MAX_OFFSET = 1_000_000_000


def _int_param(request: Request, name: str, default: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def paging(request: Request) -> tuple[int, int]:
    """``(limit, offset)``: limit 1 to 100 (10 by default), offset 0 to a billion."""
    limit = _int_param(request, "limit", DEFAULT_LIMIT)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise InvalidPaginationLimit()
    offset = _int_param(request, "offset", 0)
    if offset is None or not 0 <= offset <= MAX_OFFSET:
        raise InvalidPaginationOffset()
    return limit, offset
