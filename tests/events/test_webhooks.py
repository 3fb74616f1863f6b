"""Lifecycle webhooks end to end: a real server, a real receiver on loopback that checks every
signature, the receiver going down and coming back, and two nodes on one PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from sessile.client import SessionClient
from sessile.store.database import Database
from tests.events.management import LOOPBACK_ENDPOINTS, SERVER_ENV, Management
from tests.events.receiver import Receiver, receiver
from tests.live import LiveServer, live_server


def _outbox_rows(server: LiveServer, webhook_id: str) -> list[object]:
    async def work() -> list[object]:
        db = Database.from_url(server.database_url)
        try:
            return list(await db.events.all_for(webhook_id))
        finally:
            await db.close()

    return asyncio.run(work())


def _types_for(inbox: Receiver, user_id: str) -> list[str]:
    with inbox.lock:
        return [e["type"] for e in inbox.events if e["user_id"] == user_id]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> LiveServer:  # type: ignore[misc]
    with live_server(tmp_path_factory.mktemp("events"), env=SERVER_ENV) as live:
        yield live


def test_every_change_arrives_signed_in_order_and_once_across_an_outage(
    server: LiveServer,
) -> None:
    api = Management(server.url, server.api_key())
    with receiver() as inbox:
        webhook_id = api.subscribe(inbox)
        user = api.create_user("ada@example.com", profile={"plan": "free"})
        uid = user["id"]
        api.call("PATCH", f"/users/{uid}/profile", 204, json={"plan": "pro"})
        api.call(
            "POST", f"/users/{uid}/identifiers", 201,
            json={"type": "phone_number", "value": "+33612345678"},
        )  # fmt: skip
        api.call(
            "DELETE", f"/users/{uid}/identifiers", 204,
            json={"type": "phone_number", "value": "+33 6 12 34 56 78"},
        )  # fmt: skip
        inbox.wait_for(4)
        created = inbox.of_type("user.created")[0]
        assert created["payload"]["profile"] == {"plan": "free"}
        assert inbox.of_type("user.profile.updated")[0]["payload"]["profile"] == {"plan": "pro"}
        assert inbox.of_type("user.identifier.deleted")[0]["payload"]["identifier"] == {
            "type": "phone_number",
            "value": "+33612345678",
            "verified": False,
        }
        assert inbox.rejected == 0

        # The receiver goes down: changes keep happening, and their deliveries retry.
        inbox.stop()
        client = SessionClient(server.url)
        tokens = client.finalize(server.challenge(uid))
        session_id = client.list_sessions()["sessions"][0]["id"]
        api.call("DELETE", f"/users/{uid}/sessions/{session_id}", 204)
        api.call("DELETE", f"/users/{uid}", 204)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            waiting = [r for r in _outbox_rows(server, webhook_id) if r.sent_at is None]  # type: ignore[attr-defined]
            if waiting and waiting[0].attempts >= 3:  # type: ignore[attr-defined]
                break
            time.sleep(0.1)
        assert waiting[0].attempts >= 3, waiting  # type: ignore[attr-defined]
        assert waiting[0].last_error  # type: ignore[attr-defined]
        assert len(waiting) == 3  # created, revoked, deleted: queued behind the first

        # It comes back on the same port: everything arrives, each event id once.
        inbox.start()
        events = inbox.wait_for(7)
        time.sleep(1.0)  # room for a duplicate to show up, if one were coming
        assert len(inbox.events) == 7
        assert Counter(inbox.ids()).most_common(1)[0][1] == 1
        assert _types_for(inbox, uid) == [
            "user.created",
            "user.profile.updated",
            "user.identifier.created",
            "user.identifier.deleted",
            "user.session.created",
            "user.session.revoked",
            "user.deleted",
        ]
        revoked = next(e for e in events if e["type"] == "user.session.revoked")
        assert revoked["payload"] == {
            "user_id": uid,
            "session_id": session_id,
            "revoked_at": revoked["created_at"],
            "reason": "admin",
        }
        assert tokens.refresh_token is not None
        assert inbox.rejected == 0


def test_a_rolled_back_change_emits_nothing(server: LiveServer) -> None:
    api = Management(server.url, server.api_key())
    with receiver() as inbox:
        api.subscribe(inbox, ["user.created", "user.identifier.created"])
        first = api.create_user("taken@example.com", external_id="crm-1")
        # Each of these fails inside its transaction, after the change was written.
        api.call("POST", "/users", 409, json={
            "identifiers": [{"type": "email_address", "value": "fresh@example.com"},
                            {"type": "email_address", "value": "TAKEN@example.com"}],
        })  # fmt: skip
        api.call("POST", "/users", 409, json={
            "identifiers": [{"type": "email_address", "value": "other@example.com"}],
            "external_id": "crm-1",
        })  # fmt: skip
        second = api.create_user("second@example.com")
        api.call(
            "POST", f"/users/{second['id']}/identifiers", 409,
            json={"type": "email_address", "value": "taken@example.com"},
        )  # fmt: skip
        api.create_user("last@example.com")
        inbox.wait_for(3)
        time.sleep(1.0)
        assert [e["type"] for e in inbox.events] == ["user.created"] * 3
        assert {e["user_id"] for e in inbox.events} >= {first["id"], second["id"]}


def test_an_endpoint_that_fails_the_challenge_stays_inactive_and_gets_nothing(
    server: LiveServer,
) -> None:
    api = Management(server.url, server.api_key())
    with receiver() as inbox:
        inbox.wrong_challenge = True
        created = api.call("POST", "/webhooks", 201, json={
            "url": inbox.url, "events": ["user.created"], "verification_token": "let-me-in",
        })  # fmt: skip
        webhook_id = created["webhook"]["id"]
        failed = api.call("POST", f"/webhooks/{webhook_id}/activate", 400)
        assert failed["code"] == "bad_request"
        assert api.call("GET", f"/webhooks/{webhook_id}")["webhook"]["active"] is False
        api.create_user("unheard@example.com")
        time.sleep(1.5)
        assert inbox.events == []
        assert _outbox_rows(server, webhook_id) == []


def test_a_forged_or_replayed_delivery_is_refused(server: LiveServer) -> None:
    """What the receiver's check refuses, through its real HTTP port."""
    import httpx

    from sessile.verify._webhooks import sign_webhook

    with receiver() as inbox:
        inbox.secrets.append("whsec_right")
        now = int(time.time())
        body = (
            b'{"id":"whd_1","app_id":"default","sent_at":%d,"events":[{"id":"evt_1",'
            b'"type":"user.created","user_id":"usr_1","payload":{}}]}'
        )
        fresh, stale = body % now, body % (now - 3600)
        for content, signature in [
            (fresh, sign_webhook("whsec_wrong", fresh)),
            (fresh.replace(b"usr_1", b"usr_2"), sign_webhook("whsec_right", fresh)),
            (stale, sign_webhook("whsec_right", stale)),
            (fresh, None),
        ]:
            headers = {"X-Webhook-Signature": signature} if signature else {}
            assert httpx.post(inbox.url, content=content, headers=headers).status_code == 401
        assert inbox.rejected == 4
        ok = httpx.post(inbox.url, content=fresh, headers={
            "X-Webhook-Signature": sign_webhook("whsec_right", fresh)})  # fmt: skip
        assert ok.status_code == 200
        assert inbox.events[0]["id"] == "evt_1"


def test_dead_letters_are_listed_and_redelivered(tmp_path: Path) -> None:
    env = {**SERVER_ENV, "SESSILE_EVENT_RETRY_HORIZON": "1"}
    with live_server(tmp_path, env=env) as live, receiver() as inbox:
        api = Management(live.url, live.api_key())
        webhook_id = api.subscribe(inbox, ["user.created"])
        inbox.stop()
        user = api.create_user("dead@example.com")
        deadline = time.monotonic() + 15
        dead: list[dict[str, object]] = []
        while not dead and time.monotonic() < deadline:
            dead = api.call("GET", f"/webhooks/{webhook_id}/dead_letters")["events"]
            time.sleep(0.2)
        [letter] = dead
        assert letter["user_id"] == user["id"]
        assert letter["type"] == "user.created"
        assert int(str(letter["attempts"])) >= 2
        inbox.start()
        assert api.call("POST", f"/webhooks/{webhook_id}/dead_letters/redeliver", json={}) == {
            "redelivered": 1
        }
        [event] = inbox.wait_for(1)
        assert event["id"] == letter["id"]
        assert api.call("GET", f"/webhooks/{webhook_id}/dead_letters")["events"] == []


def test_two_nodes_on_one_postgresql_deliver_each_event_once(
    tmp_path: Path, new_postgres_database: Callable[[], str]
) -> None:
    database_url = new_postgres_database()
    with (
        live_server(tmp_path / "a", database_url, env=SERVER_ENV) as node_a,
        live_server(tmp_path / "b", database_url, env=SERVER_ENV) as node_b,
        receiver() as inbox,
    ):
        key = node_a.api_key()
        a, b = Management(node_a.url, key), Management(node_b.url, key)
        a.subscribe(inbox)
        users = []
        for n in range(12):
            api = a if n % 2 else b
            user = api.create_user(f"user{n}@example.com")
            users.append(user["id"])
            (b if n % 2 else a).call("PATCH", f"/users/{user['id']}/profile", 204, json={"n": n})
            api.call("PUT", f"/users/{user['id']}/status", json={"status": "inactive"})
            (b if n % 2 else a).call("DELETE", f"/users/{user['id']}", 204)
        inbox.wait_for(36, timeout=30)
        time.sleep(1.5)
        ids = inbox.ids()
        assert len(ids) == 36 == len(set(ids))
        for uid in users:
            assert _types_for(inbox, uid) == [
                "user.created",
                "user.profile.updated",
                "user.deleted",
            ]
        assert inbox.rejected == 0


def test_the_cli_manages_endpoints(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LOOPBACK_ENDPOINTS.items():
        monkeypatch.setenv(name, value)  # the command runs with the test's environment
    with receiver() as inbox:
        made = server.cli("webhooks", "create", "--url", inbox.url, "--event", "user.deleted",
                          "--verification-token", "let-me-in",
                          "--signature", "hmac-sha256")  # fmt: skip
        assert made.returncode == 0, made.stderr
        webhook_id, secret = made.stdout.split()
        assert secret.startswith("whsec_")
        inbox.secrets.append(secret)
        assert "inactive" in server.cli("webhooks", "list").stdout
        added = server.cli("webhooks", "add-event", webhook_id, "user.created")
        assert added.stdout.strip() == f"{webhook_id} receives user.deleted,user.created"
        assert server.cli("webhooks", "activate", webhook_id).returncode == 0
        listed = server.cli("webhooks", "list").stdout
        assert f"{webhook_id}  active" in listed
        assert "hmac-sha256" in listed
        Management(server.url, server.api_key()).create_user("cli@example.com")
        [event] = inbox.wait_for(1)
        assert event["type"] == "user.created"
        assert event["payload"]["source"] == "api"
        # The default scheme needs no secret: none is printed.
        signed = server.cli("webhooks", "create", "--url", inbox.url,
                            "--verification-token", "let-me-in")  # fmt: skip
        assert signed.stdout.split() == [signed.stdout.strip()]
        assert "rsassa-pss-sha256" in server.cli("webhooks", "list").stdout
        assert server.cli("webhooks", "delete", signed.stdout.strip()).returncode == 0
        assert server.cli("webhooks", "dead-letters", webhook_id).stdout == ""
        assert "0 event(s)" in server.cli("webhooks", "redeliver", webhook_id).stdout
        assert server.cli("webhooks", "delete", webhook_id).returncode == 0
        assert server.cli("webhooks", "delete", webhook_id).returncode == 1
