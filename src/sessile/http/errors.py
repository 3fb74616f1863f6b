"""Turn errors into JSON responses (DESIGN §2): ``{code, type, status, message}`` plus the
OAuth pair where an OAuth or DPoP client looks for it.

``type`` is what Prelude's frontend error bodies carry, ``status`` what its management
error bodies carry; both name the HTTP status class (``bad_request``, ``unauthorized``…),
so one body serves either reader.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from sessile.errors import (
    BadRequest,
    DPoPError,
    Internal,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    SessileError,
    Unauthorized,
)
from sessile.jose import challenge

__all__ = ["error_response", "handle_exception", "install_error_handlers"]

log = logging.getLogger("sessile.http")

_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")
#: Seconds a client waits before retrying a 503: a database restart or failover takes a few.
_RETRY_AFTER_UNAVAILABLE = 2

#: The documented name of each status an error answers with.
_STATUS_NAMES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "too_many_requests",
    500: "internal",
    503: "unavailable",
}

_BY_STATUS: Mapping[int, type[SessileError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    503: ServiceUnavailable,
}


def error_response(error: SessileError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    kind = _STATUS_NAMES.get(error.status, "bad_request" if error.status < 500 else "internal")
    body: dict[str, str] = {
        "code": error.code,
        "type": kind,
        "status": kind,
        "message": error.message,
    }
    out = dict(headers or {})
    if error.oauth_error is not None:
        body["error"] = error.oauth_error
        body["error_description"] = error.message
    if isinstance(error, DPoPError):
        out.setdefault(
            "WWW-Authenticate",
            challenge("DPoP", error=error.oauth_error, error_description=error.message),
        )
    elif isinstance(error, Unauthorized):
        out.setdefault(
            "WWW-Authenticate",
            challenge("Bearer", error="invalid_token", error_description=error.message),
        )
    if isinstance(error, RateLimited):
        out["Retry-After"] = str(error.retry_after)
    elif isinstance(error, ServiceUnavailable):
        out.setdefault("Retry-After", str(_RETRY_AFTER_UNAVAILABLE))
    return JSONResponse(body, status_code=error.status, headers=out)


async def _sessile_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SessileError)
    return error_response(exc)


def _allowed_methods(request: Request) -> str:
    """Every method the path takes (RFC 9110 §10.2.1), not only the first route's."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_class = _BY_STATUS.get(exc.status_code, BadRequest if exc.status_code < 500 else Internal)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return error_response(error_class(), headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors()
    )
    return error_response(BadRequest(problems or None))


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable", extra={"error": type(exc).__name__})
    return error_response(ServiceUnavailable())


async def _redis_error(_request: Request, exc: Exception) -> JSONResponse:
    # The replay cache and the rate limits fail closed: a proof or a login is refused,
    # never let through unchecked.
    log.error("redis unavailable", extra={"error": type(exc).__name__})
    return error_response(
        ServiceUnavailable("The replay cache or rate limiter is unavailable; retry later.")
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(Internal())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SessileError, _sessile_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # The drivers raise ServiceUnavailable for their own errors; a lost connection that
    # reaches here unanswered is answered the same way.
    for lost in (ConnectionError, OSError):
        app.add_exception_handler(lost, _database_error)
    app.add_exception_handler(RedisError, _redis_error)
    app.add_exception_handler(Exception, _unexpected)


async def handle_exception(app: FastAPI, request: Request, exc: Exception) -> Response:
    """Answer ``exc`` with the handler ``app`` has for it, as Starlette's middleware would.

    For a layer that runs an endpoint itself, outside that middleware; the ``Exception``
    handler catches all, so only a ``BaseException`` goes on up.
    """
    for cls in type(exc).__mro__:
        handler = app.exception_handlers.get(cls)
        if handler is not None:
            response = handler(request, exc)
            return await response if inspect.isawaitable(response) else response
    raise exc
