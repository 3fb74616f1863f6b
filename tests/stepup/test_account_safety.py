"""Account changes against a leaked access token, on a real server.

- Removing an identifier needs a DPoP proof by the session's own key, and the account's
  oldest proven identifier stays in a grant that added another.
- A proof by another key is refused on the account routes; none is still fine where
  Prelude's clients send none (``/me/password/reset``).
- Every proven address is told of each change, with a link that ends every session of
  the account: once, and only for whoever holds the notice.
"""

from __future__ import annotations

import re

import httpx
import pytest

from sessile.client import SessionClientError
from sessile.store.user_identifiers import Identifier
from tests.live import LiveServer
from tests.stepup.flow import StepUpClient, log_in

PHONE = "+33699887766"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/v1/session/end-sessions\?token=([A-Za-z0-9_-]+))")


def _email(value: str) -> dict[str, str]:
    return {"type": "email_address", "value": value}


def _add(client: StepUpClient, kind: str, value: str) -> None:
    client.session.refresh(client.register(kind, value))


def _notices(server: LiveServer, to: str, since: int = 0) -> list[dict[str, str]]:
    return [m for m in server.messages(to)[since:] if m["code"] == ""]


def test_removing_an_identifier_needs_a_proof_by_the_sessions_key(server: LiveServer) -> None:
    client = log_in(server)
    thief = log_in(server)
    second = client.email.replace("@", "+2@")
    _add(client, "email_address", second)
    body = {"identifier": _email(second)}

    bare = client.post_me("/identifiers/remove", body)
    assert (bare.status_code, bare.json()["code"]) == (401, "missing_dpop_proof")
    stolen = client.signed_me("/identifiers/remove", body, key=thief.key)
    assert (stolen.status_code, stolen.json()["code"]) == (401, "dpop_key_mismatch")
    assert "DPoP-Nonce" in stolen.headers
    assert server.user(Identifier("email_address", second)) is not None

    removed = client.signed_me("/identifiers/remove", body)
    assert removed.status_code == 200, removed.text
    assert server.user(Identifier("email_address", second)) is None


def test_the_oldest_proven_identifier_stays_in_the_grant_that_added_another(
    server: LiveServer,
) -> None:
    client = log_in(server)
    first = client.email
    second = first.replace("@", "+new@")
    _add(client, "email_address", second)
    refused = client.signed_me("/identifiers/remove", {"identifier": _email(first)})
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    assert server.user(Identifier("email_address", first)) is not None

    # A grant whose code went to that very address removes it.
    _add(client, "email_address", first)
    assert server.user_by_email(first).id == server.user_by_email(second).id
    removed = client.signed_me("/identifiers/remove", {"identifier": _email(first)})
    assert removed.status_code == 200, removed.text
    assert server.user(Identifier("email_address", first)) is None


def test_a_proof_by_another_key_is_refused_on_the_account_routes(server: LiveServer) -> None:
    mine = log_in(server)
    thief = log_in(server)
    mine.session.refresh(mine.step_up("prld:pwd:write"))
    stolen = mine.signed_me(
        "/password/reset", {"password": "the thief's passphrase"}, key=thief.key
    )
    assert (stolen.status_code, stolen.json()["code"]) == (401, "dpop_key_mismatch")
    assert server.user_by_email(mine.email).password_hash is None
    listed = mine.signed_me("/identifiers", method="GET", key=thief.key)
    assert (listed.status_code, listed.json()["code"]) == (401, "dpop_key_mismatch")
    assert mine.signed_me("/identifiers", method="GET").status_code == 200

    # Prelude's clients send no proof here: the Bearer token alone still makes one change.
    changed = mine.post_me("/password/reset", {"password": "the owner's passphrase"})
    assert changed.status_code == 204, changed.text
    assert server.user_by_email(mine.email).password_hash is not None


def test_every_proven_address_is_told_of_each_change(server: LiveServer) -> None:
    client = log_in(server)
    first = client.email
    second = first.replace("@", "+told@")

    _add(client, "email_address", second)
    added = _notices(server, first)
    assert len(added) == 1
    assert f"{second} was added to your" in added[0]["text"]
    assert LINK.search(added[0]["text"])
    assert len(_notices(server, second)) == 1, "the new address too"

    seen = {to: len(server.messages(to)) for to in (first, second)}
    removed = client.signed_me("/identifiers/remove", {"identifier": _email(second)})
    assert removed.status_code == 200, removed.text
    for to in (first, second):
        told = _notices(server, to, seen[to])
        assert len(told) == 1, to
        assert f"{second} was removed from your" in told[0]["text"]

    _add(client, "phone_number", PHONE)
    seen = {to: len(server.messages(to)) for to in (first, PHONE)}
    client.set_password("a brand new passphrase")
    for to in (first, PHONE):
        told = _notices(server, to, seen[to])
        assert len(told) == 1, to
        assert "password" in told[0]["text"]
        assert LINK.search(told[0]["text"])


def test_the_notice_link_ends_every_session_once(server: LiveServer) -> None:
    client = log_in(server)
    other = log_in(server, client.email)
    _add(client, "email_address", client.email.replace("@", "+link@"))
    found = LINK.search(_notices(server, client.email)[-1]["text"])
    assert found is not None
    link, token = found.groups()

    page = httpx.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert f'value="{token}"' in page.text
    # Opening the link (as a mail scanner does) ends nothing.
    other.session.refresh()

    end = server.url + "/v1/session/end-sessions"
    forged = httpx.post(end, data={"token": token[:-2] + "xx"}, headers={"Origin": server.url})
    assert forged.status_code == 400
    other.session.refresh()
    done = httpx.post(end, data={"token": token}, headers={"Origin": server.url})
    assert done.status_code == 200, done.text
    for ended in (client, other):
        with pytest.raises(SessionClientError) as caught:
            ended.session.refresh()
        assert caught.value.code == "unauthorized"
    again = httpx.post(end, data={"token": token}, headers={"Origin": server.url})
    assert again.status_code == 400
    assert "already" in again.text
    # The account itself is untouched: its owner logs in again.
    assert log_in(server, client.email).session.tokens is not None
