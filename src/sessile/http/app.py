"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from sessile import __version__
from sessile.clock import Clock
from sessile.config import Settings, load_settings
from sessile.context import AppContext
from sessile.http.edge import Edge
from sessile.http.errors import install_error_handlers
from sessile.http.lane import RefreshLane
from sessile.http.openapi import install_openapi
from sessile.http.routes import (
    account,
    audit,
    claims_config,
    end_sessions,
    health,
    login,
    login_config,
    me,
    oauth,
    revocations,
    session,
    stepup,
    stepup_config,
    tokens,
    user_admin,
    users,
    webhooks,
    wellknown,
)
from sessile.http.routes.demo import install_demo
from sessile.http.routes.metrics import MetricsListener
from sessile.http.security_headers import SecurityHeaders
from sessile.logs import configure_logging
from sessile.metrics import sample_pool_use
from sessile.sessions.device import warm_device_rules

__all__ = ["create_app", "create_app_from_env"]

log = logging.getLogger("sessile.app")

_MAINTENANCE_INTERVAL = 300.0


def create_app(
    settings: Settings, clock: Clock | None = None, *, freeze_at_startup: bool = False
) -> FastAPI:
    """The app. ``freeze_at_startup`` is for a server process, which keeps one app for
    its whole life: see :func:`create_app_from_env`."""
    context = AppContext.build(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await context.ring.ensure()
        await context.body_keys.ensure()
        if freeze_at_startup:
            # ua-parser compiles its device rules at its first parse (about 0.1 s): here,
            # not in the first login's answer, and before the freeze, which then keeps them.
            warm_device_rules()
            # What startup built (modules, routes, models, the context) lives as long as
            # the process: out of the collector's sight, full collections stay short,
            # and so does the latency tail they add (bench/refresh.py --latency).
            gc.collect()
            gc.freeze()
        tasks = [
            asyncio.create_task(_maintain(context)),
            asyncio.create_task(context.sender.run()),
            asyncio.create_task(context.webhooks.run()),
            asyncio.create_task(sample_pool_use(context.db.driver)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await context.db.close()

    app = FastAPI(
        title="sessile",
        summary="Self-hosted sessions: JWT access tokens and DPoP-bound refresh tokens.",
        version=__version__,
        lifespan=lifespan,
        # FastAPI's OpenTelemetry bridge asks on every request whether a provider is set;
        # sessile exports no traces, so it is off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.context = context
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(wellknown.router)
    app.include_router(session.router)
    app.include_router(login.router)
    app.include_router(login.dpop_router)
    app.include_router(oauth.router)
    app.include_router(me.router)
    app.include_router(revocations.router)
    app.include_router(user_admin.router)
    app.include_router(users.router)
    app.include_router(stepup.router)
    app.include_router(stepup_config.router)
    app.include_router(account.router)
    app.include_router(end_sessions.router)
    app.include_router(webhooks.router)
    app.include_router(audit.router)
    app.include_router(tokens.router)
    app.include_router(claims_config.router)
    app.include_router(login_config.router)
    if settings.demo:
        install_demo(app, settings)
    app.add_middleware(
        Edge,
        locator=context.locator,
        max_body_bytes=settings.max_body_bytes,
        public_url=settings.public_url,
        cors_origins=settings.cors_origins,
        lane=RefreshLane(app, session.router, session.PREFIX + "/refresh"),
        security=SecurityHeaders.build(settings.public_url, settings.hsts_max_age),
        metrics=None
        if settings.metrics_port is None
        else MetricsListener(app, settings.metrics_port),
    )
    return app


async def _maintain(context: AppContext) -> None:
    """Scheduled key rotation and clean-up; a failure is logged and retried next round."""
    while True:
        await asyncio.sleep(_MAINTENANCE_INTERVAL)
        try:
            await context.maintain()
        except Exception:
            log.exception("maintenance failed")


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn workers: settings come from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings, freeze_at_startup=True)
