"""Step-up for ``prld:pwd:write`` against a real server: an e-mail code step that completes
the challenge, the refresh with the step-up token, a new password (204, the grant spent);
the other session ends."""

from __future__ import annotations

import time

import pytest

from sessile.client import SessionClient, SessionClientError
from tests.live import LiveServer
from tests.stepup.flow import claims_of, log_in


def test_step_up_then_change_password_ends_the_other_session(server: LiveServer) -> None:
    mine = log_in(server)
    other = log_in(server, mine.email)
    assert claims_of(mine.session.tokens.access_token)["scope"] == "session"  # type: ignore[union-attr]

    step_up_token = mine.step_up("prld:pwd:write")
    tokens = mine.session.refresh(step_up_token)
    claims = claims_of(tokens.access_token)
    assert claims["scope"].split() == ["session", "prld:pwd:write"]
    assert claims["sid"] == claims_of(step_up_token)["sid"]
    # The other session of the same user got nothing.
    assert claims_of(other.session.refresh().access_token)["scope"] == "session"
    # A plain refresh keeps the grant while it lasts.
    assert "prld:pwd:write" in claims_of(mine.session.refresh().access_token)["scope"].split()

    changed = mine.post_me("/password/reset", {"password": "a brand new passphrase"})
    assert changed.status_code == 204, changed.text
    assert changed.content == b""
    # The grant is spent: the same token, still unexpired, changes nothing more.
    again = mine.post_me("/password/reset", {"password": "another new passphrase"})
    assert (again.status_code, again.json()["code"]) == (403, "insufficient_scope")
    notice = server.last_message(mine.email)
    assert notice["code"] == ""
    assert "password" in notice["text"]

    with pytest.raises(SessionClientError) as ended:
        other.session.refresh()
    assert ended.value.code == "unauthorized"
    fresh = SessionClient(server.url)
    fresh.login_with_password(mine.email, "a brand new passphrase")
    assert fresh.tokens is not None
    # The session that changed the password lives on.
    assert "prld:pwd:write" not in claims_of(mine.session.refresh().access_token)["scope"]
    fresh.logout()
    still = SessionClient(server.url)
    still.login_with_password(mine.email, "a brand new passphrase")
    assert still.tokens is not None


def test_password_policy_applies_and_changes_nothing(server: LiveServer) -> None:
    mine = log_in(server)
    mine.session.refresh(mine.step_up("prld:pwd:write"))
    short = mine.post_me("/password/reset", {"password": "short"})
    assert short.status_code == 400
    assert short.json()["code"] == "bad_request"
    user = server.user_by_email(mine.email)
    assert user.password_hash is None


def test_password_reset_without_the_scope_is_forbidden(server: LiveServer) -> None:
    mine = log_in(server)
    denied = mine.post_me("/password/reset", {"password": "a brand new passphrase"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "insufficient_scope"
    # A grant of another scope doesn't do either.
    mine.session.refresh(mine.step_up("older:names"))
    denied = mine.post_me("/password/reset", {"password": "a brand new passphrase"})
    assert denied.status_code == 403
    assert server.user_by_email(mine.email).password_hash is None


def test_password_reset_after_the_grant_ended_is_forbidden(short_server: LiveServer) -> None:
    mine = log_in(short_server)
    mine.session.refresh(mine.step_up("prld:pwd:write"))
    granted = claims_of(mine.session.tokens.access_token)  # type: ignore[union-attr]
    assert granted["exp"] - granted["iat"] <= 4, "the token ends with the grant"
    time.sleep(4.5)
    # The scoped token is still inside the server's clock leeway, but the grant has ended.
    stale = mine.post_me("/password/reset", {"password": "a brand new passphrase"})
    assert stale.status_code == 403
    assert stale.json()["code"] == "insufficient_scope"
    mine.session.refresh()
    assert claims_of(mine.session.tokens.access_token)["scope"] == "session"  # type: ignore[union-attr]
    denied = mine.post_me("/password/reset", {"password": "a brand new passphrase"})
    assert denied.status_code == 403
    assert short_server.user_by_email(mine.email).password_hash is None
