"""Metrics and the audit trail on a real two-worker server: what a test did shows up in every
scrape of ``/metrics`` on the metrics listener (summed over the workers), and in
``GET …/audit``. The API's port serves no ``/metrics``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sessile.client import SessionClient, SessionClientError
from tests.live import LiveServer, live_server
from tests.server import free_port

PASSWORD = "correct horse battery"


def _metrics_url(server: LiveServer) -> str:
    """The metrics listener of a server started with ``--metrics-port``."""
    args = server.server.process.args
    assert isinstance(args, list)
    return f"http://127.0.0.1:{args[args.index('--metrics-port') + 1]}/metrics"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    args = ("--workers", "2", "--metrics-port", str(free_port()))
    with live_server(tmp_path_factory.mktemp("observe"), args=args) as live:
        yield live


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float:  # fmt: skip
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_from_two_workers_count_every_login_and_refresh(two_workers: LiveServer) -> None:
    server = two_workers
    key = server.api_key()
    api = httpx.Client(
        base_url=server.url + "/v2/session/apps/default",
        headers={"Authorization": f"Bearer {key}"},
    )
    made = api.post("/users", json={
        "identifiers": [{"type": "email_address", "value": "m@example.com", "verified": True}],
        "password": PASSWORD,
    })  # fmt: skip
    assert made.status_code == 201, made.text
    # Each client is a connection of its own, so the workers share the work.
    for _ in range(3):
        with SessionClient(server.url) as client:
            client.login_with_password("m@example.com", PASSWORD)
            client.refresh()
            client.refresh()
    with SessionClient(server.url) as wrong, pytest.raises(SessionClientError):
        wrong.login_with_password("m@example.com", "not the password")

    for _ in range(6):  # any worker may answer a scrape: each must tell the whole story
        scrape = httpx.get(_metrics_url(server))
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain")
        samples = _samples(scrape.text)
        logins = "sessile_logins_total"
        assert _value(samples, logins, method="password", result="success") == 3
        assert _value(samples, logins, method="password", result="failure") == 1
        assert _value(samples, "sessile_refreshes_total", outcome="rotated") == 6
        refreshes = _value(
            samples, "sessile_http_requests_total",
            route="/v1/session/refresh", method="POST", status="200",
        )  # fmt: skip
        assert refreshes == 6
        finalize = _value(
            samples, "sessile_http_request_duration_seconds_count",
            route="/v1/session/login/finalize", method="POST",
        )  # fmt: skip
        assert finalize >= 3
        assert _value(samples, "sessile_webhook_queue_depth") == 0
        assert ("sessile_db_pool_checked_out", ()) in samples


def test_the_audit_trail_records_logins_failures_and_api_key_use(two_workers: LiveServer) -> None:
    server = two_workers
    key = server.api_key()
    key_id = key.split("_")[1]
    api = httpx.Client(
        base_url=server.url + "/v2/session/apps/default",
        headers={"Authorization": f"Bearer {key}"},
    )
    user = api.post("/users", json={
        "identifiers": [{"type": "email_address", "value": "audit@example.com"}],
        "password": PASSWORD,
    }).json()  # fmt: skip
    with SessionClient(server.url) as client:
        client.login_with_password("audit@example.com", PASSWORD)
    with SessionClient(server.url) as wrong, pytest.raises(SessionClientError):
        wrong.login_with_password("audit@example.com", "nope nope nope")
    assert api.put(f"/users/{user['id']}/password", json={"password": "another fine pw"}).is_success

    mine = api.get("/audit", params={"user_id": user["id"]}).json()["events"]
    kinds = [e["type"] for e in mine]
    assert kinds == ["login.succeeded", "login.failed", "password.changed"]
    login, failed, changed = mine
    assert login["data"]["method"] == "password"
    assert login["ip"] == "127.0.0.1"
    assert failed["data"] == {"method": "password", "identifier_type": "email_address"}
    assert changed["actor"] == f"api_key:{key_id}"
    assert changed["user_agent"].startswith("python-httpx/")

    used = api.get("/audit", params={"type": "api_key.used", "limit": 2}).json()
    assert len(used["events"]) == 2
    assert all(e["actor"].startswith("api_key:") for e in used["events"])
    later = api.get("/audit", params={"type": "api_key.used", "after": used["cursor"]}).json()
    assert later["events"]
    assert later["events"][0]["id"] > used["events"][-1]["id"]
    assert api.get("/audit", params={"type": "no.such"}).status_code == 400
    assert api.get("/audit", params={"after": -1}).status_code == 400


def test_metrics_are_per_process_with_one_worker(tmp_path: Path) -> None:
    with live_server(tmp_path, args=("--metrics-port", str(free_port()))) as one:
        httpx.get(one.url + "/healthz")
        scrape = httpx.get(_metrics_url(one))
        assert scrape.status_code == 200
        assert "sessile_http_requests_total" in scrape.text
        assert httpx.get(one.url + "/metrics").status_code == 404


def test_the_api_port_serves_no_metrics(two_workers: LiveServer) -> None:
    for _ in range(4):  # either worker may answer
        public = httpx.get(two_workers.url + "/metrics")
        assert public.status_code == 404
        assert public.json()["code"] == "not_found"
        assert "sessile_" not in public.text


def test_without_a_metrics_port_there_are_no_metrics_at_all(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        assert httpx.get(server.url + "/metrics").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/healthz"), ("GET", "/.well-known/jwks.json"), ("POST", "/v1/session/refresh"),
     ("GET", "/v2/session/apps/default/users"), ("POST", "/metrics")],
)  # fmt: skip
def test_the_metrics_listener_answers_nothing_else(
    two_workers: LiveServer, method: str, path: str
) -> None:
    url = _metrics_url(two_workers).removesuffix("/metrics") + path
    answer = httpx.request(method, url)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
