"""Each event as the stores record it, on SQLite and PostgreSQL: Prelude's documented payload
fields (PRELUDE-API §5.5) under ``payload``, the name under ``type`` and ``event``, RFC 3339
times; and an event recorded outside any change (``EventStore.record``)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from sessile import event_types as event
from sessile.audit import acting_as
from sessile.store.database import Database
from sessile.store.drivers import Steps
from sessile.store.events import event_steps
from sessile.store.session_rows import SessionRow
from sessile.store.user_identifiers import Identifier
from sessile.store.users import NewUser
from sessile.store.webhooks import Webhook

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
EMAIL = Identifier("email_address", "ada@example.com")
PHONE = Identifier("phone_number", "+33612345678")


async def _subscribe_all(db: Database) -> None:
    await db.webhooks.create(
        Webhook("web_all", "https://hooks.example/h", event.EVENT_TYPES, "t", "x", True,
                1.0, 1.0, None, None)
    )  # fmt: skip


async def _documents(db: Database) -> list[dict[str, Any]]:
    return [dict(row.payload) for row in await db.events.all_for("web_all")]


def _session(user_id: str, **changes: object) -> SessionRow:
    row = SessionRow(
        id="ses_1", user_id=user_id, jkt="jkt", auth_method="otp_sms", refresh_hash="h",
        generation=0, previous_hash=None, rotated_at=None, created_at=30.0, last_seen_at=30.0,
        expires_at=1030.0, revoked_at=None, revoked_reason=None, device_type="mobile",
        device_model="Pixel 8", os_version="Android 14", browser="Chrome 120",
        country_code="FR", ip="203.0.113.7", user_agent="Mozilla/5.0",
    )  # fmt: skip
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def _check_item(item: dict[str, Any], name: str, user_id: str) -> dict[str, Any]:
    assert item["id"].startswith("evt_")
    assert item["type"] == item["event"] == name
    assert RFC3339.match(item["created_at"])
    assert item["user_id"] == item["payload"]["user_id"] == user_id
    payload: dict[str, Any] = item["payload"]
    return payload


async def test_every_user_event_carries_its_documented_fields(database: Database) -> None:
    await _subscribe_all(database)
    user = await database.users.create(
        now=10.0, identifiers_=[EMAIL], profile={"plan": "free"}, proven=[EMAIL]
    )
    await database.users.update(user.id, now=20.0, profile_patch={"plan": "pro"})
    assert await database.identifiers.add(user.id, PHONE, now=25.0, proven=False)
    await database.sessions.create(_session(user.id))
    assert await database.sessions.revoke("ses_1", reason="logout", now=40.0)
    assert await database.identifiers.remove(user.id, PHONE, now=45.0)
    assert await database.users.delete(user.id, now=50.0)

    docs = await _documents(database)
    assert [d["type"] for d in docs] == [
        event.USER_CREATED,
        event.USER_PROFILE_UPDATED,
        event.IDENTIFIER_CREATED,
        event.SESSION_CREATED,
        event.SESSION_REVOKED,
        event.IDENTIFIER_DELETED,
        event.USER_DELETED,
    ]
    created, updated, added, opened, revoked, removed, deleted = (
        _check_item(d, d["type"], user.id) for d in docs
    )
    assert created["identifiers"] == [
        {"type": "email_address", "value": "ada@example.com", "verified": True}
    ]
    assert created["profile"] == {"plan": "free"}
    assert created["source"] == "frontend", "no API key and no CLI: a login made it"
    assert created["created_at"] == "1970-01-01T00:00:10.000Z"
    assert updated["profile"] == {"plan": "pro"}
    assert updated["updated_at"] == "1970-01-01T00:00:20.000Z"
    assert added["identifier"] == {"type": "phone_number", "value": "+33612345678",
                                   "verified": False}  # fmt: skip
    assert RFC3339.match(added["created_at"])
    assert opened["session_id"] == "ses_1"
    assert opened["identifier"]["type"] == "phone_number", "an SMS login goes by the phone"
    assert opened["metadata"] == {
        "auth_method": "otp_sms", "device_type": "mobile", "device_model": "Pixel 8",
        "os_version": "Android 14", "browser": "Chrome 120", "country_code": "FR",
        "ip": "203.0.113.7", "user_agent": "Mozilla/5.0",
    }  # fmt: skip
    assert opened["created_at"] == "1970-01-01T00:00:30.000Z"
    assert (revoked["session_id"], revoked["reason"]) == ("ses_1", "logout")
    assert revoked["revoked_at"] == "1970-01-01T00:00:40.000Z"
    assert removed["identifier"]["value"] == "+33612345678"
    assert removed["deleted_at"] == "1970-01-01T00:00:45.000Z"
    assert set(deleted) == {"user_id", "deleted_at"}
    assert deleted["deleted_at"] == "1970-01-01T00:00:50.000Z"


async def test_a_session_goes_by_a_proven_email_unless_opened_by_sms(
    database: Database,
) -> None:
    await _subscribe_all(database)
    other = Identifier("email_address", "zed@example.com")
    user = await database.users.create(
        now=1.0, identifiers_=[PHONE, other, EMAIL], proven=[EMAIL, PHONE]
    )
    await database.sessions.create(_session(user.id, id="ses_pw", auth_method="password"))
    bare = await database.users.create(now=2.0)
    await database.sessions.create(_session(bare.id, id="ses_oauth", auth_method="oauth_github"))
    opened = [
        d["payload"] for d in await _documents(database) if d["type"] == "user.session.created"
    ]
    assert opened[0]["identifier"] == {"type": "email_address", "value": "ada@example.com",
                                       "verified": True}  # fmt: skip
    assert opened[1]["identifier"] == {}, "a user with no identifier: an empty object"


async def test_the_source_names_the_management_api_or_the_cli(database: Database) -> None:
    await _subscribe_all(database)

    async def create(actor: str, email: str) -> None:
        acting_as(actor)
        await database.users.create(now=1.0, identifiers_=[Identifier("email_address", email)])

    # Each in a task of its own, so that the actor it names stays there.
    await asyncio.create_task(create("api_key:key_1", "api@example.com"))
    await asyncio.create_task(create("cli", "cli@example.com"))
    assert [d["payload"]["source"] for d in await _documents(database)] == ["api", "cli"]


async def test_an_event_outside_a_change_is_recorded_in_its_own_transaction(
    database: Database,
) -> None:
    assert (
        await database.events.record(
            event.STEP_UP_HOOK_FAILED, user_id="usr_1", payload={"reason": "x"}, now=5.0
        )
        is None
    ), "no endpoint wants it"
    await _subscribe_all(database)
    event_id = await database.events.record(
        event.STEP_UP_HOOK_FAILED,
        user_id="usr_1",
        payload={"reason": "invalid_status_code", "scope_requested": "transfer:write"},
        now=5.0,
    )
    [doc] = await _documents(database)
    assert doc["id"] == event_id
    payload = _check_item(doc, "step_up.hook_failed", "usr_1")
    assert payload == {
        "user_id": "usr_1",
        "reason": "invalid_status_code",
        "scope_requested": "transfer:write",
        "occurred_at": "1970-01-01T00:00:05.000Z",
    }
    [claimed] = await database.events.claim(now=6.0, lease=60.0, limit=10)
    assert claimed.event_id == event_id


async def test_a_payload_that_needs_a_query_is_read_only_when_an_endpoint_wants_it(
    database: Database,
) -> None:
    calls: list[str] = []

    def payload() -> Steps[Mapping[str, Any]]:
        calls.append("read")
        yield from ()
        return {"session_id": "ses_x"}

    def created() -> Steps[str | None]:
        return event_steps(
            database.driver.dialect,
            event.SESSION_CREATED,
            user_id="usr_1",
            payload=payload,
            now=1.0,
        )

    none = await database.driver.transaction(created())
    assert (none, calls) == (None, [])
    await _subscribe_all(database)
    assert await database.driver.transaction(created())
    assert calls == ["read"]
    [doc] = await _documents(database)
    assert doc["payload"]["session_id"] == "ses_x"


async def test_a_new_users_first_session_announces_the_user_then_the_session(
    database: Database,
) -> None:
    """Made in one transaction, which reads the endpoints once: ``user.created`` with the
    proven address, then ``user.session.created`` opened with it."""
    await _subscribe_all(database)
    new = NewUser(id="usr_new", now=30.0, identifiers=(EMAIL,), proven=frozenset({EMAIL}))
    assert await database.sessions.create(_session("usr_new"), keep=1, new_user=new) == []
    created, opened = await _documents(database)
    assert _check_item(created, event.USER_CREATED, "usr_new")["identifiers"] == [
        {"type": "email_address", "value": EMAIL.value, "verified": True}
    ]
    session = _check_item(opened, event.SESSION_CREATED, "usr_new")
    assert session["session_id"] == "ses_1"
    assert session["identifier"] == {
        "type": "email_address",
        "value": EMAIL.value,
        "verified": True,
    }


async def test_revoking_all_of_a_users_sessions_announces_each(database: Database) -> None:
    await _subscribe_all(database)
    user = await database.users.create(now=10.0, identifiers_=[EMAIL])
    for n in range(3):
        await database.sessions.create(_session(user.id, id=f"ses_{n}"))
    assert await database.sessions.revoke_user(user.id, reason="logout", now=40.0) == 3
    revoked = [d for d in await _documents(database) if d["type"] == event.SESSION_REVOKED]
    assert sorted(
        _check_item(d, event.SESSION_REVOKED, user.id)["session_id"] for d in revoked
    ) == [
        "ses_0",
        "ses_1",
        "ses_2",
    ]
    assert {d["payload"]["reason"] for d in revoked} == {"logout"}
