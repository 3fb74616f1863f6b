"""Adding and removing an e-mail address or phone inside a session, behind the register
scopes; a new one is proven by its code, and the last way to log in stays."""

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
from tests.stepup.flow import StepUpClient, log_in

PHONE = {"type": "phone_number", "value": "+33612345678"}


def _add_email(client: StepUpClient, server: LiveServer, address: str) -> None:
    """Add an e-mail address to the client's account, proven by the code sent to it."""
    started = client.post_me(
        "/identifiers", {"identifier": {"type": "email_address", "value": address}}
    )
    checked = client.http.post(
        client.base + "/me/identifiers/check",
        json={"code": server.last_message(address)["code"]},
        headers={
            **client.bearer(),
            "X-Verification-Token": started.headers["X-Verification-Token"],
        },
    )
    assert checked.status_code == 200, checked.text


def _me(client: StepUpClient) -> dict[str, object]:
    answer = client.http.get(client.base + "/me", headers=client.bearer())
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_add_a_phone_proven_by_its_code_then_log_in_with_it(server: LiveServer) -> None:
    client = log_in(server)
    denied = client.post_me("/identifiers", {"identifier": PHONE})
    assert denied.status_code == 403, "no grant, no new identifier"

    client.session.refresh(client.step_up("prld:phone:register"))
    started = client.post_me("/identifiers", {"identifier": PHONE})
    assert started.status_code == 200
    assert started.json() == {"status": "otp_required"}
    verification = started.headers["X-Verification-Token"]
    code = server.last_message("+33612345678")["code"]
    wrong = client.http.post(
        client.base + "/me/identifiers/check",
        json={"code": "000000" if code != "000000" else "111111"},
        headers={**client.bearer(), "X-Verification-Token": verification},
    )
    assert wrong.json()["code"] == "bad_check_code"
    checked = client.http.post(
        client.base + "/me/identifiers/check",
        json={"code": code},
        headers={**client.bearer(), "X-Verification-Token": verification},
    )
    assert checked.status_code == 200, checked.text
    me = _me(client)
    assert {"type": "phone_number", "value": "+33612345678", "verified": True} in me["identifiers"]  # type: ignore[operator]
    assert me["phone_verified"] is True
    # The new phone logs in to the same account.
    by_phone = SessionClient(server.url)
    by_phone.start_otp("phone_number", "+33612345678")
    by_phone.check_otp(server.last_message("+33612345678")["code"])
    user = server.user(Identifier("phone_number", "+33612345678"))
    assert user is not None
    assert user.id == server.user_by_email(client.email).id


def test_someone_elses_address_answers_alike_and_never_joins(server: LiveServer) -> None:
    owner = log_in(server)
    client = log_in(server)
    client.session.refresh(client.step_up("prld:email:register"))
    sent_before = len(server.messages(owner.email))
    started = client.post_me(
        "/identifiers", {"identifier": {"type": "email_address", "value": owner.email}}
    )
    assert started.status_code == 200
    assert started.json() == {"status": "otp_required"}
    assert len(server.messages(owner.email)) == sent_before, "nothing goes to the holder"
    guessed = client.http.post(
        client.base + "/me/identifiers/check",
        json={"code": "123456"},
        headers={
            **client.bearer(),
            "X-Verification-Token": started.headers["X-Verification-Token"],
        },
    )
    assert guessed.json()["code"] == "bad_check_code"
    assert server.user_by_email(owner.email).id != server.user_by_email(client.email).id


def test_remove_an_identifier_but_never_the_last(server: LiveServer) -> None:
    client = log_in(server)
    client.session.refresh(client.step_up("prld:email:register"))
    mine = {"type": "email_address", "value": client.email}
    last = client.post_me("/identifiers/remove", {"identifier": mine})
    assert last.status_code == 409
    assert last.json()["code"] == "conflict"
    assert server.user_by_email(client.email) is not None

    # With a second address, proven by its code, the first can go.
    second = client.email.replace("@", "+2@")
    _add_email(client, server, second)
    removed = client.post_me("/identifiers/remove", {"identifier": mine})
    assert removed.status_code == 200, removed.text
    assert server.user(Identifier("email_address", client.email)) is None
    again = client.post_me("/identifiers/remove", {"identifier": mine})
    assert again.status_code == 404
    # Now the second is the last.
    last = client.post_me(
        "/identifiers/remove", {"identifier": {"type": "email_address", "value": second}}
    )
    assert last.status_code == 409
    # Removing a phone needs the phone scope.
    phone = client.post_me("/identifiers/remove", {"identifier": PHONE})
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
    client.session.refresh(client.step_up("prld:email:register"))
    second = client.email.replace("@", "+events@")
    _add_email(client, server, second)
    first = {"type": "email_address", "value": client.email}
    assert client.post_me("/identifiers/remove", {"identifier": first}).status_code == 200

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
