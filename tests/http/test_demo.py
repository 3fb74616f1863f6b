from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sessile.config import load_settings
from sessile.http.app import create_app
from tests.server import RunningServer, run_server


def _demo_dir(tmp_path: Path) -> Path:
    built = tmp_path / "dist"
    built.mkdir(exist_ok=True)
    (built / "index.html").write_text("<!doctype html><title>demo</title>")
    return built


async def _get(tmp_path: Path, path: str, peer: str, **overrides: object) -> httpx.Response:
    settings = load_settings(
        data_dir=tmp_path,
        secret_key="s" * 48,
        demo=True,
        demo_outbox=True,
        demo_dir=_demo_dir(tmp_path),
        **overrides,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        return await client.get(path)


async def test_demo_is_served_at_the_root(tmp_path: Path) -> None:
    page = await _get(tmp_path, "/", "127.0.0.1")
    assert page.status_code == 200
    assert "<title>demo</title>" in page.text


async def test_outbox_shows_codes_to_loopback_only(tmp_path: Path) -> None:
    (tmp_path / "outbox.jsonl").write_text(
        '{"channel": "email", "to": "a@b.co", "code": "123456", "text": "t", "created_at": "x"}\n'
    )
    local = await _get(tmp_path, "/demo/outbox", "127.0.0.1")
    assert local.json()["messages"][0]["code"] == "123456"
    remote = await _get(tmp_path, "/demo/outbox", "203.0.113.9")
    assert remote.status_code == 404
    assert "123456" not in remote.text


async def test_no_outbox_route_with_real_delivery(tmp_path: Path) -> None:
    (tmp_path / "outbox.jsonl").write_text('{"code": "123456"}\n')
    response = await _get(
        tmp_path, "/demo/outbox", "127.0.0.1", delivery="webhook",
        webhook_url="http://127.0.0.1:9/x", webhook_secret="s",
    )  # fmt: skip
    assert response.status_code == 404
    assert "123456" not in response.text


def test_demo_needs_a_built_app(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, secret_key="s" * 48, demo=True, demo_dir=tmp_path / "missing"
    )
    with pytest.raises(RuntimeError, match="not built"):
        create_app(settings)


# On a live ``sessile serve``: the outbox's codes go only to an explicitly enabled,
# truly local request.

_CODE_LINE = (
    '{"channel": "email", "to": "a@b.co", "code": "654321", "text": "t", "created_at": "x"}\n'
)


@contextlib.contextmanager
def _demo_server(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "outbox.jsonl").write_text(_CODE_LINE)
    demo_env = {"SESSILE_DEMO_DIR": str(_demo_dir(tmp_path)), **(env or {})}
    with run_server(data, demo_env, args=("--demo", *args)) as server:
        yield server


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.json() == {
        "code": "not_found",
        "type": "not_found",
        "status": "not_found",
        "message": "Not found.",
    }
    assert "654321" not in response.text


@pytest.fixture(scope="module")
def outbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with _demo_server(tmp_path_factory.mktemp("outbox"), "--demo-outbox") as server:
        yield server


def test_live_outbox_is_served_when_asked_for_and_local(outbox_server: RunningServer) -> None:
    response = httpx.get(outbox_server.url + "/demo/outbox", timeout=5)
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["code"] == "654321"


@pytest.mark.parametrize(
    "header",
    [
        ("X-Forwarded-For", "203.0.113.9"),
        ("X-Forwarded-Host", "auth.example.com"),
        ("X-Forwarded-Proto", "https"),
        ("Forwarded", "for=203.0.113.9"),
        ("X-Real-IP", "203.0.113.9"),
    ],
)
def test_live_outbox_refuses_a_forwarded_request(
    outbox_server: RunningServer, header: tuple[str, str]
) -> None:
    _refused(httpx.get(outbox_server.url + "/demo/outbox", headers=[header], timeout=5))


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "localhost:{port}",
        "127.0.0.1",
        "127.0.0.2:{port}",
        "127.0.0.1:0{port}",
        "127.0.0.1.:{port}",
        "evil.example@127.0.0.1:{port}",
    ],
)
def test_live_outbox_refuses_a_host_other_than_the_public_urls(
    outbox_server: RunningServer, host: str
) -> None:
    # DNS rebinding: a page on evil.example, its name re-pointed at 127.0.0.1, reaches the
    # server from a loopback peer with no proxy header, but its browser sends its own Host.
    port = outbox_server.url.rsplit(":", 1)[1]
    headers = {"Host": host.format(port=port)}
    _refused(httpx.get(outbox_server.url + "/demo/outbox", headers=headers, timeout=5))
    assert httpx.get(outbox_server.url + "/", headers=headers, timeout=5).status_code == 200


def test_live_outbox_refused_unless_asked_for(tmp_path: Path) -> None:
    with _demo_server(tmp_path) as server:
        _refused(httpx.get(server.url + "/demo/outbox", timeout=5))
        assert httpx.get(server.url + "/", timeout=5).status_code == 200, "the demo itself is on"


def test_live_outbox_refused_with_trusted_proxies(tmp_path: Path) -> None:
    env = {"SESSILE_TRUSTED_PROXIES": "127.0.0.1"}
    with _demo_server(tmp_path, "--demo-outbox", env=env) as server:
        _refused(httpx.get(server.url + "/demo/outbox", timeout=5))


def test_live_outbox_refused_with_a_public_url_off_loopback(tmp_path: Path) -> None:
    env = {"SESSILE_PUBLIC_URL": "https://auth.example.com"}
    with _demo_server(tmp_path, "--demo-outbox", env=env) as server:
        _refused(httpx.get(server.url + "/demo/outbox", timeout=5))
