"""A route class for DPoP endpoints: every response, success or error, carries ``DPoP-Nonce``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from sessile.errors import SessileError
from sessile.http.context import dpop_of

__all__ = ["DPoPRoute"]


class DPoPRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def with_nonce(request: Request) -> Response:
            dpop = dpop_of(request)
            try:
                response = await handle(request)
            except SessileError as error:
                return await dpop.error_response(error)
            return await dpop.add_nonce(response)

        return with_nonce
