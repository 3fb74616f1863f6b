"""Bearer tokens over HTTP (RFC 6750 §2.1, §3): the header in, the error answer out.

Plain values only, so each framework integration is a few lines of glue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessile import jose
from sessile.verify._errors import InsufficientScope, InvalidToken, MissingToken, TokenError

__all__ = ["ErrorAnswer", "bearer_token", "error_answer"]


def bearer_token(authorization: str | None) -> str:
    """The token from an ``Authorization`` header value; no Bearer credentials raise."""
    try:
        return jose.bearer_token(authorization)
    except jose.BearerError as exc:
        if exc.reason == "missing":
            raise MissingToken() from exc
        raise InvalidToken("The Authorization header is not 'Bearer <token>'.") from exc


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    headers: dict[str, str]
    body: dict[str, str]


def error_answer(error: TokenError, realm: str | None = None) -> ErrorAnswer:
    """The status, ``WWW-Authenticate`` challenge and JSON body for a refused token."""
    params: dict[str, str | None] = {"realm": realm}
    if error.oauth_error is not None:
        params.update(error=error.oauth_error, error_description=error.message)
    if isinstance(error, InsufficientScope):
        params["scope"] = " ".join(error.scopes)
    headers = {"Cache-Control": "no-store"}
    if error.status == 401 or isinstance(error, InsufficientScope):
        headers["WWW-Authenticate"] = jose.challenge("Bearer", **params)
    return ErrorAnswer(error.status, headers, {"code": error.code, "message": error.message})
