"""The management API's OpenAPI pieces: inline request-body schemas, paging parameters and
the error answers every route shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from sessile.http.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET

__all__ = ["NO_STORE", "PAGING", "ErrorBody", "errors", "json_body"]

NO_STORE = {"Cache-Control": "no-store"}


class ErrorBody(BaseModel):
    code: str
    message: str


def inline_refs(schema: Any, defs: Mapping[str, Any]) -> Any:
    """Resolve ``#/$defs/…`` references: an inline request schema can't point into a
    ``$defs`` of its own once it sits inside the OpenAPI document."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: inline_refs(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [inline_refs(item, defs) for item in schema]
    return schema


def json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {"schema": inline_refs(schema, schema.get("$defs", {}))}
            },
        }
    }


PAGING = {
    "parameters": [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
            "description": "Page size; otherwise `invalid_pagination_limit`.",
        },
        {
            "name": "offset",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            "description": "Items to skip; otherwise `invalid_pagination_offset`.",
        },
    ]
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "`bad_request`, or a more precise 400 code",
        401: "`unauthorized`: no API key, or an unknown or revoked one",
        403: "`forbidden`: the API key lacks the scope this route needs",
        404: "`not_found`: no such app, user, session or webhook",
        409: "`identifier_already_exists`, or `conflict`",
    }
    return {s: {"model": ErrorBody, "description": described[s]} for s in (401, 403, *statuses)}
