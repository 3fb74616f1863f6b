"""Reach the AppContext, and the DPoP verifier built on it, from a request."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from sessile.context import AppContext
from sessile.http.dpop import DPoPVerifier

__all__ = ["context_of", "dpop_of"]


def context_of(request: HTTPConnection) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def dpop_of(request: HTTPConnection) -> DPoPVerifier:
    """The app's DPoP verifier: made from its context on first use, then kept."""
    state = request.app.state
    try:
        verifier: DPoPVerifier = state.dpop
    except AttributeError:
        context = context_of(request)
        verifier = state.dpop = DPoPVerifier(
            context.settings,
            clock=context.clock,
            secrets=context.shared_secrets,
            replay=context.replay,
        )
    return verifier
