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


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class DPoPRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def with_nonce(request: Request) -> Response:
            return await self.answer(request, handle)

        return with_nonce

    @staticmethod
    async def answer(request: Request, handle: Handler) -> Response:
        """``handle``'s response, or its :class:`SessileError`'s, with ``DPoP-Nonce``."""
        dpop = dpop_of(request)
        try:
            response = await handle(request)
        except SessileError as error:
            return await dpop.error_response(error)
        return await dpop.add_nonce(response)
