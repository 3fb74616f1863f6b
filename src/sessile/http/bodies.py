"""Request bodies: JSON objects, with an empty body read as ``{}`` (Prelude's SDK sends one).

Nesting is bounded before parsing: the standard parser recurses once per level, so a
few kilobytes of brackets would otherwise end in ``RecursionError``.
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from sessile.errors import BadRequest

__all__ = ["read_json"]

Model = TypeVar("Model", bound=BaseModel)

#: No body sessile reads nests deeper than a few levels; 32 leaves room for profiles.
MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest past ``limit``; brackets inside strings don't count."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


async def read_json(request: Request, model: type[Model]) -> Model:
    # An empty body (every refresh from Prelude's SDK) needs no read through the stack.
    raw = b"" if request.headers.get("content-length") == "0" else await request.body()
    if raw.strip():
        if _too_deep(raw):
            raise BadRequest(f"The body nests deeper than {MAX_DEPTH} levels.")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest("The body is not valid JSON.") from exc
    else:
        data = {}
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise BadRequest(problems) from exc
