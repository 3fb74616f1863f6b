"""Adding an e-mail address or phone inside a session by Prelude's register flow
(``prld:email:register`` / ``prld:phone:register`` with ``metadata.identifier``, its code
checked with a proof bound to the session's key), listing them, and removing one behind
its register scope and a proof by the session's key; the last way to log in stays."""

from __future__ import annotations

import asyncio
from typing import Any

from sessile import event_types as event
from sessile.client import SessionClient
from sessile.events.worker import secret_box
from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier
from sessile.store.webhooks import Webhook
from tests.live import LiveServer
from tests.server import SECRET_KEY
from tests.stepup.flow import StepUpClient, claims_of, log_in

PHONE = {"type": "phone_number", "value": "+33612345678"}


def _register(client: StepUpClient, kind: str, value: str) -> str:
    """Add an identifier as Prelude's register flow does: the reserved scope with
    ``metadata.identifier``, then the code sent to it. Returns the completed token."""
    scope = "prld:email:register" if kind == "email_address" else "prld:phone:register"
    asked = client.request(scope, {"identifier": value})
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "review"
    challenge = asked.json()["challenge_token"]
    step = "verify_email" if kind == "email_address" else "verify_sms"
    assert claims_of(challenge)["current_step"] == step
    return client.code_step(challenge, to=value)


def _add_email(client: StepUpClient, server: LiveServer, address: str) -> None:
    """Add an e-mail address to the client's account, proven by the code sent to it."""
    client.session.refresh(_register(client, "email_address", address))


def _me(client: StepUpClient) -> dict[str, object]:
    answer = client.http.get(client.base + "/me", headers=client.bearer())
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_add_a_phone_proven_by_its_code_then_log_in_with_it(server: LiveServer) -> None:
    client = log_in(server)
    asked = client.request("prld:phone:register", {"identifier": "+33 6 12 34 56 78"})
    assert asked.json()["status"] == "review"
    challenge = asked.json()["challenge_token"]
    # The identifier is normalised as at login, and nothing is added before its code.
    assert claims_of(challenge)["metadata"] == {"identifier": "+33612345678"}
    assert client.send_code(challenge).status_code == 204
    code = server.last_message("+33612345678")["code"]
    assert server.user(Identifier("phone_number", "+33612345678")) is None
    wrong = client.check_code(challenge, "000000" if code != "000000" else "111111")
    assert wrong.json()["code"] == "bad_check_code"
    completed = client.checked(challenge, code)
    assert claims_of(completed)["current_step"] == "completed"
    me = _me(client)
    assert {"type": "phone_number", "value": "+33612345678", "verified": True} in me["identifiers"]  # type: ignore[operator]
    assert me["phone_verified"] is True
    listed = client.http.get(client.base + "/me/identifiers", headers=client.bearer())
    assert listed.json() == {
        "identifiers": [
            {"type": "email_address", "value": client.email, "verified": True},
            {"type": "phone_number", "value": "+33612345678", "verified": True},
        ]
    }
    # The SDK then refreshes with the completed token.
    granted = claims_of(client.session.refresh(completed).access_token)["scope"]
    assert "prld:phone:register" in granted.split()
    # The new phone logs in to the same account.
    by_phone = SessionClient(server.url)
    by_phone.start_otp("phone_number", "+33612345678")
    by_phone.check_otp(server.last_message("+33612345678")["code"])
    user = server.user(Identifier("phone_number", "+33612345678"))
    assert user is not None
    assert user.id == server.user_by_email(client.email).id


def test_a_register_scope_needs_its_identifier(server: LiveServer) -> None:
    client = log_in(server)
    missing = client.request("prld:email:register")
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid_metadata")
    malformed = client.request("prld:email:register", {"identifier": "not an address"})
    assert (malformed.status_code, malformed.json()["code"]) == (400, "invalid_identifier")
    # One the account holds proven is proven again (its code goes to it), never added twice.
    mine = client.request("prld:email:register", {"identifier": client.email.upper()})
    assert (mine.status_code, mine.json()["status"]) == (200, "review")
    assert claims_of(mine.json()["challenge_token"])["metadata"] == {"identifier": client.email}
    # One it holds unproven is a conflict.
    user_id = server.user_by_email(client.email).id
    unproven = Identifier("email_address", client.email.replace("@", "+unproven@"))
    _in_database(server, lambda db: db.identifiers.add(user_id, unproven, now=1.0, proven=False))
    held = client.request("prld:email:register", {"identifier": unproven.value})
    assert (held.status_code, held.json()["code"]) == (409, "conflict")


def test_the_code_check_is_bound_to_the_sessions_key(server: LiveServer) -> None:
    """A leaked access token can start a register step-up, but only the session's key
    can prove its code: the identifier is never added without it."""
    client = log_in(server)
    thief = log_in(server)
    address = f"thief-{client.email}"
    asked = client.request("prld:email:register", {"identifier": address})
    challenge = asked.json()["challenge_token"]
    assert client.send_code(challenge).status_code == 204
    code = server.last_message(address)["code"]
    stolen = client.check_code(challenge, code, key=thief.key)
    assert (stolen.status_code, stolen.json()["code"]) == (403, "token_mismatch")
    unsigned = client.http.post(
        client.base + "/otp/check",
        json={"code": code, "challenge_token": challenge},
        headers={"X-Verification-Token": client.verification or ""},
    )
    assert unsigned.json()["code"] == "missing_dpop_proof"
    assert server.user(Identifier("email_address", address)) is None


def test_someone_elses_address_answers_alike_and_never_joins(server: LiveServer) -> None:
    owner = log_in(server)
    client = log_in(server)
    sent_before = len(server.messages(owner.email))
    asked = client.request("prld:email:register", {"identifier": owner.email})
    assert (asked.status_code, asked.json()["status"]) == (200, "review")
    challenge = asked.json()["challenge_token"]
    assert client.send_code(challenge).status_code == 204
    assert len(server.messages(owner.email)) == sent_before, "nothing goes to the holder"
    guessed = client.check_code(challenge, "123456")
    assert guessed.json()["code"] == "bad_check_code"
    assert server.user_by_email(owner.email).id != server.user_by_email(client.email).id


def test_remove_an_identifier_but_never_the_last(server: LiveServer) -> None:
    client = log_in(server)
    mine = {"type": "email_address", "value": client.email}
    denied = client.signed_me("/identifiers/remove", {"identifier": mine})
    assert (denied.status_code, denied.json()["code"]) == (403, "insufficient_scope")
    second = client.email.replace("@", "+2@")
    _add_email(client, server, second)
    # The second address, proven by its code, is there, so the first can go, under a grant
    # whose code went to the first itself (it is the account's oldest proven address).
    _add_email(client, server, client.email)
    removed = client.signed_me("/identifiers/remove", {"identifier": mine})
    assert removed.status_code == 200, removed.text
    assert server.user(Identifier("email_address", client.email)) is None
    again = client.signed_me("/identifiers/remove", {"identifier": mine})
    assert again.status_code == 404
    # Now the second is the last.
    last = client.signed_me(
        "/identifiers/remove", {"identifier": {"type": "email_address", "value": second}}
    )
    assert last.status_code == 409
    assert last.json()["code"] == "conflict"
    assert server.user(Identifier("email_address", second)) is not None
    # Removing a phone needs the phone scope.
    phone = client.signed_me("/identifiers/remove", {"identifier": PHONE})
    assert phone.status_code == 403


def _in_database(server: LiveServer, work: Any) -> Any:
    async def run() -> Any:
        db = Database.from_url(server.database_url)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def test_identifiers_added_and_removed_in_a_session_are_events(server: LiveServer) -> None:
    """The same ``user.identifier.*`` events as the management API's changes."""
    hook = Webhook(
        id="web_stepup_events",
        url="http://127.0.0.1:9/nobody-listens",
        events=(event.IDENTIFIER_CREATED, event.IDENTIFIER_DELETED),
        verification_token="t",
        secret_encrypted=secret_box(SECRET_KEY.encode()).encrypt(b"whsec_x", b"web_stepup_events"),
        active=True,
        created_at=0.0,
        updated_at=0.0,
        last_http_code=None,
        last_http_code_at=None,
    )
    _in_database(server, lambda db: db.webhooks.create(hook))
    client = log_in(server)
    user_id = server.user_by_email(client.email).id
    second = client.email.replace("@", "+events@")
    _add_email(client, server, second)
    _add_email(client, server, client.email)  # proven again, added nothing: no event
    first = {"type": "email_address", "value": client.email}
    assert client.signed_me("/identifiers/remove", {"identifier": first}).status_code == 200

    queued = _in_database(server, lambda db: db.events.all_for(hook.id))
    mine = [(e.type, e.payload["payload"]["identifier"]) for e in queued if e.user_id == user_id]
    assert mine == [
        (event.IDENTIFIER_CREATED, {"type": "email_address", "value": second, "verified": True}),
        (event.IDENTIFIER_DELETED, {**first, "verified": True}),
    ]
    assert [set(e.payload["payload"]) for e in queued if e.user_id == user_id] == [
        {"user_id", "identifier", "created_at"},
        {"user_id", "identifier", "deleted_at"},
    ]
