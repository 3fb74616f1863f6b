"""The OpenAPI document says what the server really answers: sessile's JSON errors.

FastAPI documents a 422 for every validation failure; sessile answers those with
400 ``bad_request`` (DESIGN §2). Each operation gets its real error answers
instead: 400 where it takes input, and 401 and 404 on the API-key routes.

The routes declare the rest with the pieces here: inline request-body schemas
(``json_body``), the paging parameters (``PAGING``) and their error answers (``errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from sessile.http.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET

__all__ = ["NO_STORE", "PAGING", "ErrorBody", "errors", "install_openapi", "json_body"]

NO_STORE = {"Cache-Control": "no-store"}

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "type", "status", "message"],
    "properties": {
        "code": {"type": "string", "description": "The wire code, e.g. `bad_request`."},
        "type": {"type": "string", "description": "The status class, e.g. `bad_request`."},
        "status": {"type": "string", "description": "The same (Prelude's management field)."},
        "message": {"type": "string"},
        "error": {"type": "string"},
        "error_description": {"type": "string"},
    },
}
_REF = {"$ref": "#/components/schemas/SessileError"}
_DESCRIPTIONS = {
    400: "`bad_request`, or a more precise 400 code",
    401: "`unauthorized`: no API key, or an unknown or revoked one",
    403: "`forbidden`: the API key lacks the scope this route needs",
    404: "`not_found`: no such app, user, session or webhook",
    409: "`identifier_already_exists`, or `conflict`",
}
_METHODS = {"get", "put", "post", "patch", "delete"}


def _error(status: str) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[int(status)],
        "content": {"application/json": {"schema": _REF}},
    }


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        document.setdefault("components", {}).setdefault("schemas", {})["SessileError"] = (
            _ERROR_SCHEMA
        )
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if method not in _METHODS:
                    continue
                responses = operation.setdefault("responses", {})
                takes_input = "422" in responses or operation.get("requestBody")
                responses.pop("422", None)
                if takes_input:
                    responses.setdefault("400", _error("400"))
                if path.startswith("/v2/session/apps/{app_id}"):
                    responses.setdefault("400", _error("400"))
                    responses.setdefault("401", _error("401"))
                    responses.setdefault("404", _error("404"))
        for name in ("HTTPValidationError", "ValidationError"):
            document["components"]["schemas"].pop(name, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


class ErrorBody(BaseModel):
    """Every error body: ``type`` is Prelude's frontend name for the status class,
    ``status`` its management name for it (``sessile.http.errors``)."""

    code: str
    type: str
    status: str
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
    """The error answers of an API-key route: 401 and 403, and ``statuses``."""
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in (401, 403, *statuses)}
