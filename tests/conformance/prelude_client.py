"""A client of the frontend API written from Prelude's wire reference (PRELUDE-API §1, §2),
not from sessile's code: cookies as a browser keeps them, a DPoP key with the nonce retry
of §1.5, and challenge-bound proofs whose ``jti`` is the challenge token's."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from sessile.client import DPoPKey
from tests.jwts import claims_of

__all__ = ["PreludeClient", "claims_of"]


@dataclass
class PreludeClient:
    origin: str
    http: httpx.Client = field(default_factory=httpx.Client)
    key: DPoPKey = field(default_factory=DPoPKey.generate)
    nonce: str | None = None
    access_token: str | None = None

    @property
    def base(self) -> str:
        return self.origin + "/v1/session"

    def url(self, path: str) -> str:
        return self.base + path

    def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        """A plain POST with cookies, ``Content-Type: application/json`` even when empty."""
        content = b"" if body is None else json.dumps(body).encode()
        return self.http.post(
            self.url(path),
            content=content,
            headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        )

    def dpop(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        """A POST with a session DPoP proof; one retry with the server's nonce (§1.5)."""
        for _ in range(2):
            proof = self.key.proof("POST", self.url(path), nonce=self.nonce)
            response = self.post(path, body, DPoP=proof, **headers)
            self.nonce = response.headers.get("DPoP-Nonce", self.nonce)
            if response.status_code < 400 or response.json().get("code") != "use_dpop_nonce":
                return response
        return response

    def challenge_post(
        self, path: str, challenge_token: str, body: Any, *, bearer: bool = False
    ) -> httpx.Response:
        """A POST with a challenge-bound proof: ``jti`` = the challenge token's, no nonce."""
        proof = self.key.proof("POST", self.url(path), jti=claims_of(challenge_token)["jti"])
        headers = {"DPoP": proof}
        if bearer:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return self.post(path, body, **headers)

    def bearer_get(self, path: str) -> httpx.Response:
        return self.http.get(
            self.url(path), headers={"Authorization": f"Bearer {self.access_token}"}
        )

    def bearer_post(self, path: str, body: Any = None) -> httpx.Response:
        return self.post(path, body, Authorization=f"Bearer {self.access_token}")

    def keep(self, response: httpx.Response) -> dict[str, Any]:
        """The ``{access_token, expires_at}`` answer, its token kept for Bearer calls."""
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.access_token = body["access_token"]
        return body
