"""Every step-up error code, each provoked on a real server, and each leaving no grant."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from sessile.client import DPoPKey, SessionClient, SessionClientError
from tests.dpop.proofs import malleated
from tests.live import LiveServer, live_server
from tests.stepup.conftest import MANY
from tests.stepup.flow import StepUpClient, claims_of, log_in


def _code(response: httpx.Response) -> str:
    code: str = response.json()["code"]
    return code


def _no_grant(client: StepUpClient) -> None:
    scope = claims_of(client.session.refresh().access_token)["scope"]
    assert scope == "session", scope


def _challenge(client: StepUpClient, scope: str = "prld:pwd:write") -> str:
    asked = client.request(scope)
    assert asked.status_code == 200, asked.text
    token: str = asked.json()["challenge_token"]
    return token


def test_missing_challenge_token(server: LiveServer) -> None:
    client = log_in(server)
    answer = client.http.post(client.base + "/otp", json={})
    assert answer.status_code == 400
    assert _code(answer) == "missing_challenge_token"


def test_invalid_challenge_tokens(server: LiveServer) -> None:
    client = log_in(server)
    forged = client.send_code("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
    assert forged.status_code == 400
    assert _code(forged) == "invalid_challenge_token"
    # An access token is no challenge token.
    assert client.session.tokens is not None
    wrong_type = client.send_code(client.session.tokens.access_token)
    assert _code(wrong_type) == "invalid_challenge_token"
    # After a step is proven, the challenge token before it is no longer current.
    client.set_password("the first passphrase")
    first = _challenge(client, "two:steps")
    client.code_step(first)
    stale = client.send_code(first)
    assert _code(stale) == "invalid_challenge_token"
    _no_grant(client)


def test_jti_mismatch(server: LiveServer) -> None:
    client = log_in(server)
    challenge = _challenge(client)
    assert client.send_code(challenge).status_code == 204
    code = server.last_message(client.email)["code"]
    mismatched = client.check_code(challenge, code, jti="not-the-challenge-jti")
    assert mismatched.status_code == 403
    assert _code(mismatched) == "token_mismatch"
    # The code was not spent: the right proof still goes through.
    assert client.check_code(challenge, code).status_code == 200


def test_another_sessions_challenge(server: LiveServer) -> None:
    mine = log_in(server)
    thief = log_in(server)
    challenge = _challenge(mine)
    assert mine.send_code(challenge).status_code == 204
    code = server.last_message(mine.email)["code"]
    # Another session's key, even with the right jti and code, is refused.
    stolen = mine.check_code(challenge, code, key=thief.key)
    assert _code(stolen) == "token_mismatch"
    completed = mine.checked(challenge, code)
    # Another session's refresh token with the completed challenge.
    with pytest.raises(SessionClientError) as caught:
        thief.session.refresh(completed)
    assert caught.value.code == "token_mismatch"
    _no_grant(thief)
    # The owner still redeems it.
    assert "prld:pwd:write" in claims_of(mine.session.refresh(completed).access_token)["scope"]


def test_a_forged_refresh_token_burns_no_one_elses_step_up_token(server: LiveServer) -> None:
    """A thief holding the owner's completed step-up token names the owner's session in a
    forged X-Refresh-Token, with a proof by the thief's own key: refused, and nothing is
    spent, so the owner still redeems it."""
    owner = log_in(server)
    thief = log_in(server)
    completed = owner.step_up("prld:pwd:write")
    assert owner.session.tokens is not None
    assert owner.session.tokens.refresh_token is not None
    owner_sid = owner.session.tokens.refresh_token.split(".")[0]
    assert claims_of(completed)["sid"] == owner_sid
    forged = f"{owner_sid}.0.{'A' * 43}"
    for named in (forged, f"{owner_sid}.7.{'b' * 43}"):
        answer = _refresh_as(thief, named, completed)
        assert (answer.status_code, _code(answer)) == (403, "token_mismatch"), answer.text
    _no_grant(thief)
    granted = claims_of(owner.session.refresh(completed).access_token)
    assert "prld:pwd:write" in granted["scope"].split()


def _refresh_as(client: StepUpClient, refresh_token: str, step_up_token: str) -> httpx.Response:
    """``/refresh`` with ``refresh_token`` in the header and a proof by ``client``'s key,
    after the nonce round trip a client makes."""
    url = client.server.url + "/v1/session/refresh"
    body = {"step_up_token": step_up_token}
    nonce = client.session.nonce
    for _ in range(2):
        proof = client.key.proof("POST", url, nonce=nonce)
        headers = {"DPoP": proof, "X-Refresh-Token": refresh_token}
        answer = client.http.post(url, json=body, headers=headers)
        if _code(answer) != "use_dpop_nonce":
            return answer
        nonce = answer.headers["DPoP-Nonce"]
    return answer


def test_step_up_token_used_twice(server: LiveServer) -> None:
    client = log_in(server)
    completed = client.step_up("prld:pwd:write")
    client.session.refresh(completed)
    with pytest.raises(SessionClientError) as caught:
        client.session.refresh(completed)
    assert caught.value.code == "token_reused"
    # Its ECDSA twin verifies too, and is the same spent challenge.
    with pytest.raises(SessionClientError) as twin:
        client.session.refresh(malleated(completed))
    assert twin.value.code == "token_reused"


def test_scope_not_configured(server: LiveServer) -> None:
    client = log_in(server)
    answer = client.request("admin:everything")
    assert answer.status_code == 403
    assert _code(answer) == "scope_not_allowed"


def test_invalid_metadata(server: LiveServer) -> None:
    client = log_in(server)
    # At most 5 members, names of 12 characters of the scope alphabet, values of 32.
    for metadata in (
        {"n": 1},
        ["a"],
        {"k": "v" * 33},
        {"a-long-name-x": "v"},
        {"with space": "v"},
        {f"k{i}": "v" for i in range(6)},
        # Only a register scope's identifier may be longer.
        {"identifier": "v" * 33},
    ):
        answer = client.request("prld:pwd:write", metadata)
        assert (answer.status_code, _code(answer)) == (400, "invalid_metadata"), metadata
    widest = {"reason": "v" * 32, **{f"k{i}": "v" for i in range(4)}}
    kept = client.request("prld:pwd:write", widest)
    assert claims_of(kept.json()["challenge_token"])["metadata"] == widest


def test_skipped_step(server: LiveServer) -> None:
    client = log_in(server)
    client.set_password("the first passphrase")
    challenge = _challenge(client, "two:steps")
    steps = claims_of(challenge)["steps"]
    assert [s["key"] for s in steps] == ["verify_email", "verify_password"]
    skipped = client.check_password(challenge, "anything")
    assert skipped.status_code == 409
    assert _code(skipped) == "step_bypassed"
    # A step-up token that isn't completed is refused on refresh.
    with pytest.raises(SessionClientError) as caught:
        client.session.refresh(challenge)
    assert caught.value.code == "step_not_completed"
    moved = client.code_step(challenge)
    assert claims_of(moved)["current_step"] == "verify_password"
    assert [s["done"] for s in claims_of(moved)["steps"]] == [True, False]
    with pytest.raises(SessionClientError) as again:
        client.session.refresh(moved)
    assert again.value.code == "step_not_completed"
    # The code step is done: sending its code again finds no code step.
    assert _code(client.send_code(moved)) == "step_not_found"
    assert "two:steps" not in claims_of(client.session.refresh().access_token)["scope"]


def test_step_not_found(server: LiveServer) -> None:
    client = log_in(server)
    client.set_password("the first passphrase")
    challenge = _challenge(client, "password:only")
    answer = client.send_code(challenge)
    assert answer.status_code == 404
    assert _code(answer) == "step_not_found"


def test_auth_blocked_without_the_factor(server: LiveServer) -> None:
    client = log_in(server)
    for scope in ("sms:only", "password:only"):
        answer = client.request(scope)
        assert (answer.status_code, _code(answer)) == (403, "auth_blocked"), scope


def test_password_step(server: LiveServer) -> None:
    client = log_in(server)
    client.set_password("the first passphrase")
    challenge = _challenge(client, "password:only")
    wrong = client.check_password(challenge, "not it")
    assert wrong.status_code == 400
    assert _code(wrong) == "invalid_password"
    proven = client.check_password(challenge, "the first passphrase")
    assert proven.status_code == 200, proven.text
    completed = proven.json()["challenge_token"]
    assert claims_of(completed)["current_step"] == "completed"
    granted = claims_of(client.session.refresh(completed).access_token)["scope"]
    assert granted.split() == ["session", "password:only"]


def test_expired_challenge(short_server: LiveServer) -> None:
    client = log_in(short_server)
    challenge = _challenge(client)
    assert claims_of(challenge)["exp"] - time.time() <= 2
    time.sleep(2.5)
    answer = client.send_code(challenge)
    assert answer.status_code == 400
    assert _code(answer) == "expired_challenge_token"


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"SESSILE_STEPUP_SCOPES": json.dumps({}), **MANY}
    with live_server(tmp_path_factory.mktemp("stepup-off"), env=env) as live:
        yield live


def test_not_configured(unconfigured: LiveServer) -> None:
    client = log_in(unconfigured)
    answer = client.request("prld:pwd:write")
    assert answer.status_code == 403
    assert _code(answer) == "not_configured"


def test_replayed_challenge_proof(server: LiveServer) -> None:
    client = log_in(server)
    challenge = _challenge(client)
    assert client.send_code(challenge).status_code == 204
    headers = client.challenge_proof("/otp/check", challenge)
    headers["X-Verification-Token"] = client.verification or ""
    body = {"code": "000000", "challenge_token": challenge}
    first = client.http.post(client.base + "/otp/check", json=body, headers=headers)
    assert _code(first) == "bad_check_code"
    replayed = client.http.post(client.base + "/otp/check", json=body, headers=headers)
    assert _code(replayed) == "invalid_dpop_proof"
    # A proof from no key at all.
    unsigned = {**headers, "DPoP": DPoPKey.generate().proof("POST", client.base + "/otp/check")}
    assert _code(client.http.post(client.base + "/otp/check", json=body, headers=unsigned)) in (
        "token_mismatch",
    )


def test_a_malleated_challenge_proof_is_a_replay(server: LiveServer) -> None:
    """The twin of a used step-up proof, ``(r, n - s)``, verifies but is the same proof."""
    client = log_in(server)
    challenge = _challenge(client)
    assert client.send_code(challenge).status_code == 204
    url, jti, iat = client.base + "/otp/check", claims_of(challenge)["jti"], time.time()
    headers = {"DPoP": client.key.proof("POST", url, jti=jti, iat=iat)}
    headers["X-Verification-Token"] = client.verification or ""
    body = {"code": "000000", "challenge_token": challenge}
    first = client.http.post(url, json=body, headers=headers)
    assert _code(first) == "bad_check_code"
    twin = {**headers, "DPoP": malleated(headers["DPoP"])}
    assert twin["DPoP"] != headers["DPoP"]
    replayed = client.http.post(url, json=body, headers=twin)
    assert (replayed.status_code, _code(replayed)) == (401, "invalid_dpop_proof")
    # The corrected code, as Prelude's SDK sends it within the same second: a new signing
    # of the very same claims, which is a new proof.
    corrected = {**headers, "DPoP": client.key.proof("POST", url, jti=jti, iat=iat)}
    body["code"] = server.last_message(client.email)["code"]
    completed = client.http.post(url, json=body, headers=corrected)
    assert completed.status_code == 200, completed.text
    assert claims_of(completed.json()["challenge_token"])["current_step"] == "completed"


def test_a_step_code_never_logs_in(server: LiveServer) -> None:
    client = log_in(server)
    assert client.send_code(_challenge(client)).status_code == 204
    code = server.last_message(client.email)["code"]
    # The step's verification token and code, taken to the login route, open no session.
    stranger = SessionClient(server.url)
    stranger._protocol.verification_token = client.verification
    with pytest.raises(SessionClientError) as caught:
        stranger.check_otp(code)
    assert caught.value.code == "bad_check_code"
    assert stranger.tokens is None


def test_a_grant_dies_with_its_session(server: LiveServer) -> None:
    client = log_in(server)
    completed = client.step_up("prld:pwd:write")
    assert client.session.tokens is not None
    access = client.session.tokens.access_token
    client.session.revoke_sessions("mine")
    with pytest.raises(SessionClientError) as caught:
        client.session.refresh(completed)
    assert caught.value.code == "unauthorized"
    refused = client.http.post(
        client.base + "/me/password/reset",
        json={"password": "a brand new passphrase"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert refused.status_code == 401


def test_a_scope_without_steps_is_granted_at_once(server: LiveServer) -> None:
    client = log_in(server)
    asked = client.request("at:once")
    assert asked.json()["status"] == "continue"
    completed = asked.json()["challenge_token"]
    assert claims_of(completed)["current_step"] == "completed"
    assert claims_of(completed)["steps"] == []
    granted = claims_of(client.session.refresh(completed).access_token)["scope"]
    assert granted.split() == ["session", "at:once"]


def test_older_step_names_read_as_prelude_s(server: LiveServer) -> None:
    client = log_in(server)
    steps = claims_of(_challenge(client, "older:names"))["steps"]
    assert [s["key"] for s in steps] == ["verify_email"]


def test_a_code_step_cannot_be_continued_with_a_token(server: LiveServer) -> None:
    """A managed step is proven by its code only; /stepup/continue takes no token for it."""
    client = log_in(server)
    challenge = _challenge(client)
    answer = client.proceed(challenge, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    assert (answer.status_code, _code(answer)) == (409, "step_not_completed")


def test_a_later_grant_replaces_an_earlier_one(server: LiveServer) -> None:
    """A session holds one step-up grant at a time (docs/prelude-compat.md, §3.3)."""
    client = log_in(server)
    first = claims_of(client.session.refresh(client.step_up("older:names")).access_token)
    assert first["scope"].split() == ["session", "older:names"]
    second = claims_of(client.session.refresh(client.step_up("prld:pwd:write")).access_token)
    assert second["scope"].split() == ["session", "prld:pwd:write"]
    assert claims_of(client.session.refresh().access_token)["scope"].split() == [
        "session",
        "prld:pwd:write",
    ]
