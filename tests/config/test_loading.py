from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sessile.config import ConfigError, load_settings


def test_defaults_are_valid() -> None:
    settings = load_settings()
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.access_token_ttl == 300
    assert settings.refresh_grace == 30
    assert settings.sqlalchemy_url.startswith("sqlite+aiosqlite:///")
    assert settings.cookie_name.startswith("__Host-")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSILE_CORS_ORIGINS", "https://a.example, https://b.example/")
    monkeypatch.setenv("SESSILE_ACCESS_TOKEN_TTL", "120")
    settings = load_settings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.access_token_ttl == 120


def test_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sessile.toml"
    path.write_text('public_url = "https://auth.example.com"\nrefresh_grace = 10\n')
    monkeypatch.delenv("SESSILE_CONFIG", raising=False)
    settings = load_settings(path)
    assert settings.issuer == "https://auth.example.com"
    assert settings.refresh_grace == 10


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("SESSILE_PUBLIC_URL", "ftp://x", "absolute http(s) URL"),
        ("SESSILE_ACCESS_TOKEN_TTL", "5", "greater than or equal to 30"),
        ("SESSILE_ACCESS_TOKEN_TTL", "soon", "valid integer"),
        ("SESSILE_CORS_ORIGINS", "not an origin", "is not an origin"),
        ("SESSILE_DELIVERY", "pigeon", "'outbox', 'smtp' or 'webhook'"),
        ("SESSILE_DATABASE_URL", "mysql://x", "sqlite+aiosqlite://"),
        ("SESSILE_TRUSTED_PROXIES", "10.0.0.0/33", "CIDR"),
        ("SESSILE_DPOP_ALGORITHMS", "none", "is not allowed"),
    ],
)
def test_bad_setting_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert name in str(caught.value)
    assert fragment in str(caught.value)


def test_insecure_cookie_needs_a_plain_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSILE_COOKIE_INSECURE_DEV", "true")
    with pytest.raises(ConfigError, match="__Host- prefix"):
        load_settings()


def test_serve_with_a_bad_setting_exits_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sessile", "serve", "--port", "1"],
        env={"SESSILE_ACCESS_TOKEN_TTL": "-3", "SESSILE_DATA_DIR": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SESSILE_ACCESS_TOKEN_TTL" in result.stderr
    assert "greater than or equal to 30" in result.stderr
    assert not (tmp_path / "sessile.db").exists()
