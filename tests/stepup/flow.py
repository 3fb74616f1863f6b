"""A logged-in client driving step-up over real HTTP, as Prelude's SDK does."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from sessile.client import DPoPKey, SessionClient
from tests.jwts import claims_of
from tests.live import LiveServer

__all__ = ["StepUpClient", "claims_of", "log_in"]


@dataclass
class StepUpClient:
    server: LiveServer
    email: str
    session: SessionClient
    http: httpx.Client = field(default_factory=httpx.Client)
    verification: str | None = None

    @property
    def base(self) -> str:
        return self.server.url + "/v1/session"

    @property
    def key(self) -> DPoPKey:
        return self.session.key

    def bearer(self) -> dict[str, str]:
        assert self.session.tokens is not None
        return {"Authorization": f"Bearer {self.session.tokens.access_token}"}

    def challenge_proof(
        self, path: str, challenge: str, *, key: DPoPKey | None = None, jti: str | None = None
    ) -> dict[str, str]:
        proof_jti = jti or claims_of(challenge)["jti"]
        return {"DPoP": (key or self.key).proof("POST", self.base + path, jti=proof_jti)}

    def request(self, scope: str, metadata: Any = None) -> httpx.Response:
        body: dict[str, Any] = {"scope": scope}
        if metadata is not None:
            body["metadata"] = metadata
        return self.http.post(self.base + "/stepup/request", json=body, headers=self.bearer())

    def send_code(self, challenge: str) -> httpx.Response:
        answer = self.http.post(self.base + "/otp", json={"challenge_token": challenge})
        self.verification = answer.headers.get("X-Verification-Token", self.verification)
        return answer

    def check_code(self, challenge: str, code: str, **proof: Any) -> httpx.Response:
        headers = self.challenge_proof("/otp/check", challenge, **proof)
        if self.verification:
            headers["X-Verification-Token"] = self.verification
        return self.http.post(
            self.base + "/otp/check",
            json={"code": code, "challenge_token": challenge},
            headers=headers,
        )

    def check_password(self, challenge: str, password: str, **proof: Any) -> httpx.Response:
        headers = self.challenge_proof("/stepup/password", challenge, **proof)
        return self.http.post(
            self.base + "/stepup/password",
            json={"password": password, "challenge_token": challenge},
            headers=headers,
        )

    def proceed(self, challenge: str, verification: str, **proof: Any) -> httpx.Response:
        headers = {**self.bearer(), **self.challenge_proof("/stepup/continue", challenge, **proof)}
        return self.http.post(
            self.base + "/stepup/continue",
            json={"challenge_token": challenge, "verification_token": verification},
            headers=headers,
        )

    def checked(self, challenge: str, code: str) -> str:
        """Check an already sent code: the challenge token it moved on to."""
        answer = self.check_code(challenge, code)
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"challenge_token"}, answer.json()
        token: str = answer.json()["challenge_token"]
        return token

    def code_step(self, challenge: str, to: str | None = None) -> str:
        """Send and check the current code step: the challenge token it moved on to."""
        sent = self.send_code(challenge)
        assert sent.status_code == 204, sent.text
        return self.checked(challenge, self.server.last_message(to or self.email)["code"])

    def step_up(self, scope: str, metadata: Any = None) -> str:
        """Request ``scope`` (one e-mail code step) and complete it: the step-up token."""
        asked = self.request(scope, metadata)
        assert asked.status_code == 200, asked.text
        assert asked.json()["status"] == "review"
        completed = self.code_step(asked.json()["challenge_token"])
        assert claims_of(completed)["current_step"] == "completed"
        return completed

    def register(self, kind: str, value: str) -> str:
        """Prelude's register flow: the reserved scope with ``metadata.identifier``, then
        the code sent to that identifier. Returns the completed step-up token."""
        scope = "prld:email:register" if kind == "email_address" else "prld:phone:register"
        asked = self.request(scope, {"identifier": value})
        assert asked.status_code == 200, asked.text
        assert asked.json()["status"] == "review"
        return self.code_step(asked.json()["challenge_token"], to=value)

    def set_password(self, password: str) -> None:
        """Give the account a password the way a user would: a step-up, then the reset."""
        self.session.refresh(self.step_up("prld:pwd:write"))
        changed = self.post_me("/password/reset", {"password": password})
        assert changed.status_code == 204, changed.text

    def post_me(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(self.base + "/me" + path, json=body, headers=self.bearer())

    def signed_me(
        self, path: str, body: Any = None, *, key: DPoPKey | None = None, method: str = "POST"
    ) -> httpx.Response:
        """A ``/me`` call with the Bearer token and a session proof (by ``key``, else the
        session's own), sent again once with the server's nonce when it asks for one."""
        url = self.base + "/me" + path
        nonce = self.session.nonce
        for _ in range(2):
            proof = (key or self.key).proof(method, url, nonce=nonce)
            answer = self.http.request(
                method, url, json=body, headers={**self.bearer(), "DPoP": proof}
            )
            if answer.status_code != 401 or answer.json().get("code") != "use_dpop_nonce":
                break
            nonce = answer.headers["DPoP-Nonce"]
        return answer


def log_in(server: LiveServer, email: str | None = None) -> StepUpClient:
    """A new client logged in by an e-mail code (which proves the address)."""
    email = email or f"stepup-{secrets.token_hex(4)}@example.com"
    session = SessionClient(server.url)
    session.start_otp("email_address", email)
    session.check_otp(server.last_message(email)["code"])
    return StepUpClient(server, email, session)
