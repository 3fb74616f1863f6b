"""Bearer tokens over HTTP (RFC 6750 §2.1, §3): the header in, the error answer out.

Plain values only, so each framework integration is a few lines of glue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessile.verify._errors import InsufficientScope, InvalidToken, MissingToken, TokenError

__all__ = ["ErrorAnswer", "bearer_token", "error_answer"]


def bearer_token(authorization: str | None) -> str:
    """The token from an ``Authorization`` header value; no Bearer credentials raise."""
    if not authorization:
        raise MissingToken()
    scheme, _, token = authorization.strip().partition(" ")
    # The auth scheme is case-insensitive (RFC 9110 §11.1); another scheme is no Bearer token.
    if scheme.lower() != "bearer":
        raise MissingToken()
    token = token.strip()
    if not token or " " in token:
        raise InvalidToken("The Authorization header is not 'Bearer <token>'.")
    return token


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    headers: dict[str, str]
    body: dict[str, str]


def error_answer(error: TokenError, realm: str | None = None) -> ErrorAnswer:
    """The status, ``WWW-Authenticate`` challenge and JSON body for a refused token."""
    params = [f'realm="{_quoted(realm)}"'] if realm else []
    if error.oauth_error is not None:
        params.append(f'error="{error.oauth_error}"')
        params.append(f'error_description="{_quoted(error.message)}"')
    if isinstance(error, InsufficientScope):
        params.append(f'scope="{_quoted(" ".join(error.scopes))}"')
    headers = {"Cache-Control": "no-store"}
    if error.status == 401 or isinstance(error, InsufficientScope):
        headers["WWW-Authenticate"] = "Bearer " + ", ".join(params) if params else "Bearer"
    return ErrorAnswer(error.status, headers, {"code": error.code, "message": error.message})


def _quoted(value: str) -> str:
    # RFC 6750 §3: error_description holds printable ASCII except '"' and '\'.
    return "".join(c for c in value if " " <= c <= "~" and c not in '"\\')
