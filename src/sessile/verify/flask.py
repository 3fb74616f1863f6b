"""Flask: a decorator that refuses requests without a valid bearer token.

::

    from flask import Flask
    from sessile.verify import Verifier
    from sessile.verify.flask import current_claims, require_token

    verifier = Verifier("https://auth.example.com", "default")
    app = Flask(__name__)

    @app.get("/me")
    @require_token(verifier)
    def me():
        return {"user": current_claims().sub}

A refused token answers 401 with ``WWW-Authenticate`` and ``{"code", "message"}``
(503 when the issuer's keys cannot be fetched).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Response, g, jsonify, request

from sessile.verify._errors import TokenError, check_scopes
from sessile.verify._http import bearer_token, error_answer
from sessile.verify._verifier import Verifier
from sessile.verify.claims import Claims

__all__ = ["current_claims", "require_scope", "require_token"]

P = ParamSpec("P")
R = TypeVar("R")

_G_KEY = "sessile_claims"


def require_token(
    verifier: Verifier, *, realm: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Verify the request's bearer token before the view runs; see :func:`current_claims`."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            try:
                claims = verifier.verify(bearer_token(request.headers.get("Authorization")))
            except TokenError as error:
                return _refusal(error, realm)
            setattr(g, _G_KEY, claims)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def require_scope(
    *scopes: str, realm: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Below :func:`require_token`: the view also needs every one of ``scopes``; a token
    without them gets 403 ``insufficient_scope``::

        @app.post("/password")
        @require_token(verifier)
        @require_scope("prld:pwd:write")
        def password(): ...
    """

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            try:
                check_scopes(current_claims().scopes, scopes)
            except TokenError as error:
                return _refusal(error, realm)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def current_claims() -> Claims:
    """The claims :func:`require_token` verified for the current request."""
    claims: Any = g.get(_G_KEY)
    if not isinstance(claims, Claims):
        raise LookupError("no verified claims: is the view decorated with require_token?")
    return claims


def _refusal(error: TokenError, realm: str | None) -> Response:
    answer = error_answer(error, realm)
    response = jsonify(answer.body)
    response.status_code = answer.status
    response.headers.update(answer.headers)
    return response
