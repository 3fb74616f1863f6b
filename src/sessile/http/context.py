"""Reach the AppContext from a request."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from sessile.context import AppContext

__all__ = ["context_of"]


def context_of(request: HTTPConnection) -> AppContext:
    context: AppContext = request.app.state.context
    return context
