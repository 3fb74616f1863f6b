"""FastAPI: a dependency that hands a route the verified claims of its bearer token.

::

    from typing import Annotated

    from fastapi import Depends, FastAPI
    from sessile.verify import AsyncVerifier, Claims
    from sessile.verify.fastapi import BearerToken, add_error_handler

    verifier = AsyncVerifier("https://auth.example.com", "default")
    bearer = BearerToken(verifier)
    app = FastAPI()
    add_error_handler(app)

    @app.get("/me")
    async def me(claims: Annotated[Claims, Depends(bearer)]) -> dict[str, str]:
        return {"user": claims.sub}

``require_scope(bearer, "prld:pwd:write")`` also needs a scope. A refused token raises
:class:`TokenRejected`: 401 with ``WWW-Authenticate``
(503 when the issuer's keys cannot be fetched). With ``add_error_handler`` the
body is ``{"code", "message"}``; without it FastAPI nests that under ``detail``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.responses import JSONResponse
from fastapi.security.base import SecurityBase
from starlette.responses import Response

from sessile.verify._errors import TokenError, check_scopes
from sessile.verify._http import bearer_token, error_answer
from sessile.verify._verifier import AsyncVerifier
from sessile.verify.claims import Claims

__all__ = [
    "BearerToken",
    "TokenRejected",
    "add_error_handler",
    "require_scope",
    "token_rejected_handler",
]


class TokenRejected(HTTPException):
    """An HTTPException carrying the :class:`~sessile.verify.TokenError` that refused the token."""

    def __init__(self, error: TokenError, realm: str | None = None) -> None:
        answer = error_answer(error, realm)
        super().__init__(answer.status, detail=answer.body, headers=answer.headers)
        self.error = error
        self.body = answer.body


class BearerToken(SecurityBase):
    """The dependency; as a ``SecurityBase`` it also shows up in the OpenAPI document."""

    def __init__(
        self, verifier: AsyncVerifier, *, realm: str | None = None, scheme_name: str = "sessile"
    ) -> None:
        self.verifier = verifier
        self.realm = realm
        self.model = HTTPBearerModel(bearerFormat="JWT")
        self.scheme_name = scheme_name

    async def __call__(self, request: Request) -> Claims:
        try:
            return await self.verifier.verify(bearer_token(request.headers.get("authorization")))
        except TokenError as error:
            raise TokenRejected(error, self.realm) from None


def require_scope(bearer: BearerToken, *scopes: str) -> Callable[[Request], Awaitable[Claims]]:
    """A dependency like ``bearer`` that also needs every one of ``scopes`` (a step-up's
    grant, say); a token without them gets 403 ``insufficient_scope``::

        change_password = require_scope(bearer, "prld:pwd:write")

        @app.post("/password")
        async def password(claims: Annotated[Claims, Depends(change_password)]) -> ...
    """

    async def dependency(request: Request) -> Claims:
        claims = await bearer(request)
        try:
            check_scopes(claims.scopes, scopes)
        except TokenError as error:
            raise TokenRejected(error, bearer.realm) from None
        return claims

    return dependency


async def token_rejected_handler(request: Request, exc: Exception) -> Response:
    """Answer a :class:`TokenRejected` with ``{"code", "message"}`` and its headers."""
    if not isinstance(exc, TokenRejected):  # pragma: no cover - registered for it alone
        raise exc
    return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)


def add_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(TokenRejected, token_rejected_handler)
