"""Request bodies: JSON objects, with an empty body read as ``{}`` (Prelude's SDK sends one)."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from sessile.errors import BadRequest

__all__ = ["read_json"]

Model = TypeVar("Model", bound=BaseModel)


async def read_json(request: Request, model: type[Model]) -> Model:
    # An empty body (every refresh from Prelude's SDK) needs no read through the stack.
    raw = b"" if request.headers.get("content-length") == "0" else await request.body()
    if raw.strip():
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
