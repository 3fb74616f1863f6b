from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sessile.config import load_settings
from sessile.http.app import create_app


def _demo_dir(tmp_path: Path) -> Path:
    built = tmp_path / "dist"
    built.mkdir(exist_ok=True)
    (built / "index.html").write_text("<!doctype html><title>demo</title>")
    return built


async def _get(tmp_path: Path, path: str, peer: str, **overrides: object) -> httpx.Response:
    settings = load_settings(
        data_dir=tmp_path, secret_key="s" * 48, demo=True, demo_dir=_demo_dir(tmp_path), **overrides
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
