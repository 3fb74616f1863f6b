"""The frontend API against Prelude's wire reference (PRELUDE-API §1, §2, §3), one test per
documented route: the documented request is accepted, and the answer has the documented
status, fields and types. Written from the reference, with a client of its own
(``prelude_client.py``); where sessile differs on purpose, docs/prelude-compat.md says why
and the test pins what sessile does instead."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conformance.prelude_client import PreludeClient, claims_of
from tests.live import LiveServer, live_server

ENV = {
    # A browser-like client on plain http keeps a cookie without the __Host- prefix.
    "SESSILE_COOKIE_INSECURE_DEV": "true",
    "SESSILE_COOKIE_NAME": "sessile_refresh",
    "SESSILE_OTP_RATE_PER_IP": "10000/minute",
    "SESSILE_OTP_RESEND_COOLDOWN": "0",
    "SESSILE_PASSWORD_SIGNUP": "true",
    "SESSILE_SIGNUP_VERIFY_EMAIL": "false",
}
DISPATCH_ID = "123e4567-e89b-12d3-a456-426614174000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("conformance"), env=ENV) as live:
        yield live


def _email() -> str:
    return f"conform-{secrets.token_hex(4)}@example.com"


def _is_rfc3339(value: Any) -> bool:
    return isinstance(value, str) and "T" in value and (value.endswith("Z") or "+" in value)


def _error(response: httpx.Response, status: int, code: str) -> None:
    """The documented error body: ``{code, type, message}`` with a fitting status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["type"], str)
    assert isinstance(body["message"], str)


def _logged_in(server: LiveServer, email: str | None = None) -> tuple[PreludeClient, str]:
    client = PreludeClient(server.url)
    email = email or _email()
    started = client.post("/login/otp", {"identifier": {"type": "email_address", "value": email}})
    assert started.status_code == 204, started.text
    code = server.last_message(email)["code"]
    client.keep(client.dpop("/login/otp/check", {"code": code}))
    return client, email


# §2.1 to §2.3: login by code ---------------------------------------------------------------
def test_start_login_otp(server: LiveServer) -> None:
    client = PreludeClient(server.url)
    email = _email()
    answer = client.post(
        "/login/otp",
        {"identifier": {"type": "email_address", "value": email}, "dispatch_id": DISPATCH_ID},
    )
    assert answer.status_code == 204
    assert answer.content == b""
    assert client.http.cookies, "the verification cookie is set"
    assert server.last_message(email)["code"]
    bad = client.post("/login/otp", {"identifier": {"type": "email_address", "value": "nope"}})
    _error(bad, 400, "invalid_identifier")


def test_check_login_otp(server: LiveServer) -> None:
    client = PreludeClient(server.url)
    email = _email()
    client.post("/login/otp", {"identifier": {"type": "email_address", "value": email}})
    wrong = client.dpop("/login/otp/check", {"code": "00000000"})
    _error(wrong, 400, "bad_check_code")
    # The oldest copy of the page asked for X-App-Id; one server is one app, so it is ignored.
    answer = client.dpop(
        "/login/otp/check", {"code": server.last_message(email)["code"]}, **{"X-App-Id": "app"}
    )
    body = client.keep(answer)
    assert isinstance(body["access_token"], str)
    assert isinstance(body["expires_at"], int)
    assert body["expires_at"] > time.time()
    assert "sessile_refresh" in client.http.cookies
    assert answer.headers["DPoP-Nonce"]


def test_retry_login_otp(server: LiveServer) -> None:
    client = PreludeClient(server.url)
    email = _email()
    client.post("/login/otp", {"identifier": {"type": "email_address", "value": email}})
    first = server.last_message(email)["code"]
    retried = client.post("/login/otp/retry")
    assert retried.status_code == 204, retried.text
    assert len(server.messages(email)) == 2
    assert server.last_message(email)["code"] != first or len(first) > 0


# §2.4, §2.5, §2.9: password, sign-up, finalize ----------------------------------------------
def test_sign_up_then_finalize(server: LiveServer) -> None:
    client = PreludeClient(server.url)
    email = _email()
    answer = client.post(
        "/login/email/sign-up", {"identifier": email, "password": "A-good-passphrase-1"}
    )
    assert answer.status_code == 200, answer.text
    assert isinstance(answer.json()["challenge_token"], str)
    body = client.keep(
        client.dpop("/login/finalize", {"challenge_token": answer.json()["challenge_token"]})
    )
    assert isinstance(body["expires_at"], int)
    taken = PreludeClient(server.url).post(
        "/login/email/sign-up", {"identifier": email, "password": "A-good-passphrase-1"}
    )
    assert taken.json()["code"] in ("conflict", "identifier_already_exists")


def test_password_login_then_finalize(server: LiveServer) -> None:
    email = _email()
    PreludeClient(server.url).post(
        "/login/email/sign-up", {"identifier": email, "password": "A-good-passphrase-1"}
    )
    client = PreludeClient(server.url)
    answer = client.post(
        "/login/email/password",
        {"identifier": email, "password": "A-good-passphrase-1", "dispatch_id": DISPATCH_ID},
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["challenge_token"]
    finalized = client.dpop("/login/finalize", {"challenge_token": token})
    client.keep(finalized)
    # Wrong credentials are `unauthorized` (the web guide's PrldErrors.Unauthorized).
    wrong = PreludeClient(server.url).post(
        "/login/email/password", {"identifier": email, "password": "not-the-passphrase"}
    )
    _error(wrong, 401, "unauthorized")
    # A spent challenge token is token_reused (§2.9), as the SDKs expect.
    again = PreludeClient(server.url).dpop("/login/finalize", {"challenge_token": token})
    _error(again, 409, "token_reused")
    forged = PreludeClient(server.url).dpop("/login/finalize", {"challenge_token": "chl_forged"})
    _error(forged, 400, "invalid_challenge_token")


def test_finalize_ends_the_previous_session_named_in_x_refresh_token(server: LiveServer) -> None:
    """[new] §2.9: ``X-Refresh-Token`` of a previous session on ``/login/finalize`` ends it
    once the new one exists; sessile asks that it be held by the same key."""
    email = _email()
    PreludeClient(server.url).post(
        "/login/email/sign-up", {"identifier": email, "password": "A-good-passphrase-1"}
    )
    device = {"X-Device-Id": "c1d2e3f4-0000-4000-8000-000000000001"}

    def login(client: PreludeClient, **headers: str) -> httpx.Response:
        token = client.post(
            "/login/email/password", {"identifier": email, "password": "A-good-passphrase-1"}
        ).json()["challenge_token"]
        answer = client.dpop("/login/finalize", {"challenge_token": token}, **headers)
        client.keep(answer)
        return answer

    client = PreludeClient(server.url)
    issued = login(client, **device)
    first = issued.headers["X-Refresh-Token"]
    # Another device can't end it, even holding the token.
    login(PreludeClient(server.url), **device, **{"X-Refresh-Token": first})
    refreshed = client.dpop("/refresh", **device, **{"X-Refresh-Token": first})
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.headers["X-Refresh-Token"]
    # The same device logging in again ends it.
    login(client, **device, **{"X-Refresh-Token": second})
    ended = client.dpop("/refresh", **device, **{"X-Refresh-Token": second})
    _error(ended, 401, "unauthorized")


def test_password_compliancy(server: LiveServer) -> None:
    answer = PreludeClient(server.url).http.get(server.url + "/v1/session/password/compliancy")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"min_length", "max_length", "uppercase", "lowercase", "numbers", "symbols"}
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in body.values())


# §2.11 to §2.14: refresh, logout, list, revoke ----------------------------------------------
def test_refresh(server: LiveServer) -> None:
    client, _ = _logged_in(server)
    body = client.keep(client.dpop("/refresh"))
    assert isinstance(body["expires_at"], int)
    claims = claims_of(body["access_token"])
    assert claims["sub"].startswith("usr_")
    assert claims["sid"].startswith("ses_")
    assert claims["scope"] == "session"
    assert isinstance(claims["cc"], dict)
    # Not yet: passkeys (has_passkey), and access tokens bound to the key (cnf).
    assert "has_passkey" not in claims
    assert "cnf" not in claims
    # Android sends {} (§2.11).
    client.keep(client.dpop("/refresh", {}))


def test_list_sessions(server: LiveServer) -> None:
    client, _ = _logged_in(server)
    answer = client.bearer_get("/me/list?limit=10&offset=0")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total"], body["limit"], body["offset"]) == (1, 10, 0)
    (session,) = body["sessions"]
    assert session["id"].startswith("ses_")
    assert session["device_type"] in ("desktop", "mobile", "tablet", "unknown")
    for name in ("created_at", "last_seen_at", "expires_at"):
        assert _is_rfc3339(session[name]), name
    # Android also sends a DPoP proof here (§1.5): not needed, and no harm.
    with_proof = client.http.get(
        client.url("/me/list"),
        headers={
            "Authorization": f"Bearer {client.access_token}",
            "DPoP": client.key.proof("GET", client.url("/me/list")),
        },
    )
    assert with_proof.status_code == 200, with_proof.text
    _error(client.bearer_get("/me/list?limit=0"), 400, "invalid_pagination_limit")
    _error(client.bearer_get("/me/list?limit=101"), 400, "invalid_pagination_limit")
    _error(client.bearer_get("/me/list?offset=-1"), 400, "invalid_pagination_offset")
    anonymous = httpx.get(server.url + "/v1/session/me/list")
    _error(anonymous, 401, "unauthorized")


def test_revoke_sessions(server: LiveServer) -> None:
    mine, email = _logged_in(server)
    other, _ = _logged_in(server, email)
    unknown = mine.bearer_post("/me/revoke?target=session&session_id=ses_nope")
    _error(unknown, 404, "not_found")
    answer = mine.bearer_post("/me/revoke?target=others")
    assert answer.status_code in (200, 204)
    assert other.dpop("/refresh").json()["code"] == "unauthorized"
    assert mine.dpop("/refresh").status_code == 200


def test_logout(server: LiveServer) -> None:
    client, _ = _logged_in(server)
    answer = client.dpop("/revoke")
    assert answer.status_code == 204, answer.text
    _error(client.dpop("/refresh"), 401, "unauthorized")


# §2.15 to §2.17: identifiers and password ---------------------------------------------------
def test_list_identifiers(server: LiveServer) -> None:
    client, email = _logged_in(server)
    answer = client.bearer_get("/me/identifiers")
    assert answer.status_code == 200
    assert {"type": "email_address", "value": email} in [
        {"type": i["type"], "value": i["value"]} for i in answer.json()["identifiers"]
    ]
    _error(httpx.get(server.url + "/v1/session/me/identifiers"), 401, "unauthorized")


def test_change_password_needs_the_scope(server: LiveServer) -> None:
    client, _ = _logged_in(server)
    refused = client.bearer_post("/me/password/reset", {"password": "N3wS3cur3P@ss!"})
    _error(refused, 403, "insufficient_scope")


# §2.18 to §2.22, §3.1: step-up as SDK 0.6.0 runs it -----------------------------------------
def _step_up(server: LiveServer, client: PreludeClient, email: str) -> str:
    """§3.1 steps 1, 3a, 3c: the completed challenge token."""
    asked = client.bearer_post("/stepup/request", {"scope": "prld:pwd:write", "metadata": {}})
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "review"
    # Only a verify_passkey step would carry WebAuthn options; sessile has none yet.
    assert set(asked.json()) == {"status", "challenge_token"}
    token = asked.json()["challenge_token"]
    claims = claims_of(token)
    for name, kind in (
        ("challenge_id", str),
        ("current_step", str),
        ("scope_requested", str),
        ("sub", str),
        ("sid", str),
        ("jti", str),
        ("exp", int),
        ("steps", list),
        ("metadata", dict),
        ("grant_mode", str),
    ):
        assert isinstance(claims[name], kind), name
    assert claims["current_step"] in ("verify_email", "verify_sms")
    assert claims["steps"][0] == {
        "order": 1,
        "expiration_duration": claims["steps"][0]["expiration_duration"],
        "key": claims["current_step"],
        "done": False,
    }
    sent = client.post("/otp", {"challenge_token": token})
    assert sent.status_code == 204, sent.text
    checked = client.challenge_post(
        "/otp/check", token, {"code": server.last_message(email)["code"], "challenge_token": token}
    )
    assert checked.status_code == 200, checked.text
    completed: str = checked.json()["challenge_token"]
    assert claims_of(completed)["current_step"] == "completed"
    assert all(step["done"] for step in claims_of(completed)["steps"])
    return completed


def test_step_up_request_otp_check_and_refresh(server: LiveServer) -> None:
    client, email = _logged_in(server)
    completed = _step_up(server, client, email)
    body = client.keep(client.dpop("/refresh", {"step_up_token": completed}))
    assert claims_of(body["access_token"])["scope"].split() == ["session", "prld:pwd:write"]
    changed = client.bearer_post("/me/password/reset", {"password": "N3wS3cur3P@ss!"})
    assert changed.status_code == 204
    # The scope was consumed (§2.17).
    again = client.bearer_post("/me/password/reset", {"password": "An0ther-P@ss!"})
    _error(again, 403, "insufficient_scope")
    reused = client.dpop("/refresh", {"step_up_token": completed})
    _error(reused, 409, "token_reused")


def test_step_up_errors(server: LiveServer) -> None:
    client, _ = _logged_in(server)
    _error(
        client.bearer_post("/stepup/request", {"scope": "not:allowed"}), 403, "scope_not_allowed"
    )
    _error(
        client.bearer_post("/stepup/request", {"scope": "prld:pwd:write", "metadata": {"k": 1}}),
        400,
        "invalid_metadata",
    )
    _error(client.post("/otp", {"challenge_token": "not-a-token"}), 400, "invalid_challenge_token")


def test_otp_retry_in_a_step_up(server: LiveServer) -> None:
    client, email = _logged_in(server)
    token = client.bearer_post("/stepup/request", {"scope": "prld:pwd:write"}).json()[
        "challenge_token"
    ]
    assert client.post("/otp", {"challenge_token": token}).status_code == 204
    retried = client.post("/otp/retry")
    assert retried.status_code == 204, retried.text
    checked = client.challenge_post(
        "/otp/check", token, {"code": server.last_message(email)["code"], "challenge_token": token}
    )
    assert checked.status_code == 200, checked.text


def test_register_an_email_address(server: LiveServer) -> None:
    """§3.4: ``prld:email:register`` with ``metadata.identifier``; added on its code."""
    client, _ = _logged_in(server)
    added = _email()
    asked = client.bearer_post(
        "/stepup/request", {"scope": "prld:email:register", "metadata": {"identifier": added}}
    )
    assert asked.json()["status"] == "review"
    token = asked.json()["challenge_token"]
    assert claims_of(token)["current_step"] == "verify_email"
    assert client.post("/otp", {"challenge_token": token}).status_code == 204
    checked = client.challenge_post(
        "/otp/check", token, {"code": server.last_message(added)["code"], "challenge_token": token}
    )
    assert claims_of(checked.json()["challenge_token"])["current_step"] == "completed"
    listed = client.bearer_get("/me/identifiers").json()["identifiers"]
    assert added in [i["value"] for i in listed]


# §2.24 ------------------------------------------------------------------------------------
def test_jwks(server: LiveServer) -> None:
    answer = httpx.get(server.url + "/.well-known/jwks.json")
    assert answer.status_code == 200
    keys = answer.json()["keys"]
    assert keys
    assert all(isinstance(k["kid"], str) and k["kty"] in ("EC", "RSA") for k in keys)
    assert not any("d" in k for k in keys)


def test_a_client_without_cookies_gets_the_refresh_token_in_headers(server: LiveServer) -> None:
    """§1.3: ``X-Refresh-Token`` and ``X-Refresh-Token-Expires-At`` (ISO 8601) go back to
    a client that keeps no cookie, such as Prelude's Android SDK (it sends
    ``X-Device-Id``); it then refreshes with the header."""
    client = PreludeClient(server.url)
    email = _email()
    client.post("/login/otp", {"identifier": {"type": "email_address", "value": email}})
    device = {"X-Device-Id": "0f8fad5b-d9cb-469f-a165-70867728950e"}
    code = server.last_message(email)["code"]
    checked = client.dpop("/login/otp/check", {"code": code}, **device)
    client.keep(checked)
    token = checked.headers["X-Refresh-Token"]
    ends = checked.headers["X-Refresh-Token-Expires-At"]
    assert datetime.fromisoformat(ends).timestamp() > time.time()
    assert not any(c.startswith("sessile_refresh=") for c in checked.headers.get_list("set-cookie"))
    client.http.cookies.clear()
    refreshed = client.dpop("/refresh", **device, **{"X-Refresh-Token": token})
    client.keep(refreshed)
    assert refreshed.headers["X-Refresh-Token"] != token
