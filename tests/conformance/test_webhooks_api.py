"""Prelude's webhook management routes (PRELUDE-API.md §4.5, §5.2), as its docs write them:
each documented request is taken, and each answer has the documented status, fields and
types. Runs against a live server; the endpoint is a loopback receiver."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.events.management import SERVER_ENV
from tests.events.prelude_receiver import PreludeReceiver, prelude_receiver
from tests.live import LiveServer, live_server

#: The event enum of the create and add-event pages.
ENUM = [
    "user.created",
    "user.deleted",
    "user.profile.updated",
    "user.identifier.created",
    "user.identifier.deleted",
    "user.session.created",
    "user.session.revoked",
]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
TOKEN = "conformance-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("conformance"), env=SERVER_ENV) as live:
        yield live


@pytest.fixture(scope="module")
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url + "/v2/session/apps/default",
        headers={"Authorization": f"Bearer {server.api_key()}"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[PreludeReceiver]:
    with prelude_receiver(app_id="default", verification_token=TOKEN) as running:
        yield running


def _webhook(document: dict[str, Any]) -> dict[str, Any]:
    """The ``webhook`` of an answer, checked field by field against the documented object."""
    webhook = document["webhook"]
    assert isinstance(webhook["id"], str)
    assert webhook["id"].startswith("web_")
    assert isinstance(webhook["url"], str)
    assert isinstance(webhook["events"], list)
    assert all(e in ENUM for e in webhook["events"])
    assert isinstance(webhook["active"], bool)
    assert webhook["last_http_code"] is None or isinstance(webhook["last_http_code"], int)
    date = webhook["last_http_code_date"]
    assert date is None or RFC3339.match(date)
    assert RFC3339.match(webhook["created_at"])
    assert RFC3339.match(webhook["updated_at"])
    return dict(webhook)


def _error(response: httpx.Response, status: int) -> None:
    """The management error body: ``{"code", "status", "message"}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["code"], str)
    assert isinstance(body["message"], str)
    assert body["status"] == {400: "bad_request", 404: "not_found"}[status]


def _create(api: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = api.post(
        "/webhooks",
        json={"url": url, "verification_token": TOKEN, "events": events or ["user.created"]},
    )
    assert response.status_code == 201, response.text
    return _webhook(response.json())


# POST /webhooks ------------------------------------------------------------------------------
def test_create_webhook_answers_201_with_the_webhook(
    api: httpx.Client, receiver: PreludeReceiver
) -> None:
    response = api.post(
        "/webhooks", json={"url": receiver.url, "verification_token": TOKEN, "events": ENUM}
    )
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    webhook = _webhook(response.json())
    assert webhook["url"] == receiver.url
    assert webhook["events"] == ENUM
    assert webhook["active"] is False, "active only after the activation challenge"
    assert (webhook["last_http_code"], webhook["last_http_code_date"]) == (None, None)


def test_create_webhook_takes_the_documented_limits(
    api: httpx.Client, receiver: PreludeReceiver
) -> None:
    longest_url = receiver.url + "?" + "q" * (2048 - len(receiver.url) - 1)
    answer = api.post(
        "/webhooks",
        json={"url": longest_url, "verification_token": "t" * 100, "events": ["user.deleted"]},
    )
    assert answer.status_code == 201, answer.text
    assert _webhook(answer.json())["url"] == longest_url


@pytest.mark.parametrize(
    "body",
    [
        {"verification_token": TOKEN, "events": ["user.created"]},
        {"url": "URL", "events": ["user.created"]},
        {"url": "URL", "verification_token": TOKEN},
        {"url": "URL", "verification_token": "t" * 101, "events": ["user.created"]},
        {"url": "URL", "verification_token": TOKEN, "events": ["user.updated"]},
        {"url": "not a uri", "verification_token": TOKEN, "events": ["user.created"]},
        {"url": "URL?" + "q" * 2048, "verification_token": TOKEN, "events": ["user.created"]},
    ],
    ids=["no url", "no token", "no events", "long token", "unknown event", "bad url", "long url"],
)
def test_create_webhook_refuses_what_the_docs_do_not_allow(
    api: httpx.Client, receiver: PreludeReceiver, body: dict[str, Any]
) -> None:
    if isinstance(body.get("url"), str):
        body = {**body, "url": body["url"].replace("URL", receiver.url)}
    _error(api.post("/webhooks", json=body), 400)


# POST /webhooks/{webhookID}/events ----------------------------------------------------------
def test_add_webhook_event_answers_201_with_the_webhook(
    api: httpx.Client, receiver: PreludeReceiver
) -> None:
    created = _create(api, receiver.url)
    response = api.post(f"/webhooks/{created['id']}/events", json={"event": "user.deleted"})
    assert response.status_code == 201
    webhook = _webhook(response.json())
    assert webhook["id"] == created["id"]
    assert webhook["events"] == ["user.created", "user.deleted"]
    again = api.post(f"/webhooks/{created['id']}/events", json={"event": "user.deleted"})
    assert again.status_code == 201
    assert _webhook(again.json())["events"] == ["user.created", "user.deleted"]


@pytest.mark.parametrize("event", ENUM)
def test_add_webhook_event_takes_every_event_of_the_enum(
    api: httpx.Client, receiver: PreludeReceiver, event: str
) -> None:
    created = _create(api, receiver.url, ["user.created"])
    response = api.post(f"/webhooks/{created['id']}/events", json={"event": event})
    assert response.status_code == 201
    assert event in _webhook(response.json())["events"]


def test_add_webhook_event_refuses_an_unknown_event_or_webhook(
    api: httpx.Client, receiver: PreludeReceiver
) -> None:
    created = _create(api, receiver.url)
    _error(api.post(f"/webhooks/{created['id']}/events", json={"event": "user.updated"}), 400)
    _error(api.post(f"/webhooks/{created['id']}/events", json={}), 400)
    _error(api.post("/webhooks/web_missing/events", json={"event": "user.deleted"}), 404)


# POST (and GET) /webhooks/{webhookID}/activate -----------------------------------------------
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_activate_webhook_sends_the_challenge_and_activates(
    api: httpx.Client, receiver: PreludeReceiver, method: str
) -> None:
    created = _create(api, receiver.url)
    response = api.request(method, f"/webhooks/{created['id']}/activate")
    assert response.status_code == 200, response.text
    webhook = _webhook(response.json())
    assert (webhook["id"], webhook["active"]) == (created["id"], True)
    [challenge] = receiver.challenges
    assert challenge["event"] == "activate"
    assert challenge["verification_token"] == TOKEN
    assert challenge["app_id"] == "default"
    assert challenge["challenge"].isdigit(), "a random integer"


def test_activate_webhook_takes_the_former_verification_token_answer(
    api: httpx.Client, receiver: PreludeReceiver
) -> None:
    receiver.old_activation_answer = True
    created = _create(api, receiver.url)
    response = api.post(f"/webhooks/{created['id']}/activate")
    assert response.status_code == 200
    assert _webhook(response.json())["active"] is True


def test_activate_webhook_answers_400_when_the_endpoint_fails_the_challenge(
    api: httpx.Client, receiver: PreludeReceiver
) -> None:
    receiver.verification_token = "the receiver expects another token"
    created = _create(api, receiver.url)
    _error(api.post(f"/webhooks/{created['id']}/activate"), 400)
    listed = api.get(f"/webhooks/{created['id']}")
    assert _webhook(listed.json())["active"] is False
    _error(api.post("/webhooks/web_missing/activate"), 404)
