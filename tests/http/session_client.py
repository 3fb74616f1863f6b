"""An in-process DPoP client for the session routes, on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from sessile.client import DPoPKey
from sessile.clock import FixedClock
from sessile.context import AppContext

BASE = "https://auth.test/v1/session"


@dataclass
class InProcessClient:
    http: httpx.AsyncClient
    app: FastAPI
    clock: FixedClock
    key: DPoPKey = field(default_factory=DPoPKey.generate)
    nonce: str | None = None

    @property
    def context(self) -> AppContext:
        context: AppContext = self.app.state.context
        return context

    async def new_challenge(self) -> str:
        user = await self.context.db.users.create(now=self.clock.now())
        return await self.context.challenges.issue(user_id=user.id, auth_method="password")

    async def dpop(
        self,
        path: str,
        *,
        key: DPoPKey | None = None,
        cookie: str | None = None,
        retry: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """POST with a proof (and the refresh cookie); retry once on ``use_dpop_nonce``."""
        url = BASE + path
        headers = dict(kwargs.pop("headers", {}))
        if cookie is not None:
            headers["Cookie"] = f"__Host-sessile_refresh={cookie}"
        for _ in range(2 if retry else 1):
            headers["DPoP"] = (key or self.key).proof(
                "POST", url, nonce=self.nonce, iat=self.clock.now()
            )
            response = await self.http.post(url, headers=headers, **kwargs)
            self.nonce = response.headers.get("DPoP-Nonce", self.nonce)
            if response.status_code != 401 or response.json().get("code") != "use_dpop_nonce":
                return response
        return response

    async def login(self, **kwargs: Any) -> httpx.Response:
        return await self.dpop(
            "/login/finalize", json={"challenge_token": await self.new_challenge()}, **kwargs
        )
