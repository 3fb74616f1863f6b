"""The OpenAPI document says what the server really answers: sessile's JSON errors.

FastAPI documents a 422 for every validation failure; sessile answers those with
400 ``bad_request`` (DESIGN §2). Each operation gets its real error answers
instead: 400 where it takes input, and 401 and 404 on the API-key routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["install_openapi"]

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "The wire code, e.g. `bad_request`."},
        "message": {"type": "string"},
        "error": {"type": "string"},
        "error_description": {"type": "string"},
    },
}
_REF = {"$ref": "#/components/schemas/SessileError"}
_DESCRIPTIONS = {
    "400": "`bad_request` or a more precise 400 code",
    "401": "`unauthorized`: no API key, or an unknown or revoked one",
    "404": "`not_found`: another app, or an unknown resource",
}
_METHODS = {"get", "put", "post", "patch", "delete"}


def _error(status: str) -> dict[str, Any]:
    return {"description": _DESCRIPTIONS[status], "content": {"application/json": {"schema": _REF}}}


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
