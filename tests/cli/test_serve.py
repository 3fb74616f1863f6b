from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest

from tests.server import run_server


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessile", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_on_sqlite_creates_the_database_and_serves(tmp_path: Path) -> None:
    with run_server(tmp_path / "data") as server:
        ready = httpx.get(server.url + "/readyz", timeout=5)
        jwks = httpx.get(server.url + "/.well-known/jwks.json", timeout=5).json()
    assert ready.status_code == 200
    assert (tmp_path / "data" / "sessile.db").exists()
    assert len(jwks["keys"]) == 1
    # Logs are JSON lines.
    first_line = server.output().splitlines()[0]
    assert first_line.startswith("{")
    assert '"level"' in first_line


def test_two_processes_on_one_postgres_publish_the_same_jwks(
    tmp_path: Path, new_postgres_database: Callable[[], str]
) -> None:
    postgres_url = new_postgres_database()
    env = {"SESSILE_DATABASE_URL": postgres_url}
    with (
        run_server(tmp_path / "a", env) as one,
        run_server(tmp_path / "b", env) as two,
    ):
        first = httpx.get(one.url + "/.well-known/jwks.json", timeout=5).json()
        second = httpx.get(two.url + "/.well-known/jwks.json", timeout=5).json()
        assert first == second
        assert len(first["keys"]) == 1

        # A key rotated through the CLI shows up on both (the ring reloads within its interval).
        rotated = _cli(
            "keys", "rotate", env={**env, "SESSILE_SECRET_KEY": "test-secret-" + "x" * 40}
        )
        assert rotated.returncode == 0, rotated.stderr
        listing = _cli("keys", "list", env={**env, "SESSILE_SECRET_KEY": "test-secret-" + "x" * 40})
        assert "published" in listing.stdout
        assert "signing" in listing.stdout


def test_keys_cli_on_sqlite(tmp_path: Path) -> None:
    env = {"SESSILE_DATA_DIR": str(tmp_path)}
    assert _cli("db", "upgrade", env=env).returncode == 0
    first = _cli("keys", "rotate", "--now", env=env)
    assert first.returncode == 0, first.stderr
    kid = first.stdout.split()[2]
    listing = _cli("keys", "list", env=env)
    line = next(line for line in listing.stdout.splitlines() if line.startswith(kid))
    assert "signing" in line


@pytest.mark.parametrize("workers", ["1", "2"])
def test_dev_cert_and_tls(tmp_path: Path, workers: str) -> None:
    made = _cli("dev-cert", "--out", str(tmp_path / "tls"), env={})
    assert made.returncode == 0, made.stderr
    cert, key = tmp_path / "tls" / "dev-cert.pem", tmp_path / "tls" / "dev-key.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    args = ("--tls-cert", str(cert), "--tls-key", str(key), "--workers", workers)
    with run_server(tmp_path / "data", args=args, scheme="https") as server:
        context = ssl.create_default_context(cafile=str(cert))
        # Fresh connections, so that with two workers each listener is likely met.
        responses = [
            httpx.get(server.url + "/.well-known/jwks.json", verify=context, timeout=5)
            for _ in range(8)
        ]
        with pytest.raises(httpx.HTTPError):  # TLS only: plain HTTP gets no answer
            httpx.get(server.url.replace("https:", "http:") + "/healthz", timeout=5)
    assert all(response.status_code == 200 for response in responses)
    client = pyjwt.PyJWKSet.from_dict(responses[0].json())
    assert len(client.keys) == 1


def test_a_short_secret_key_is_a_settings_error(tmp_path: Path) -> None:
    served = _cli(
        "serve",
        "--port",
        "1",
        env={
            "SESSILE_SECRET_KEY": "only-31-bytes-of-secret-key-abc",
            "SESSILE_DATA_DIR": str(tmp_path),
        },
    )
    assert served.returncode == 2, served.stderr
    assert "SESSILE_SECRET_KEY" in served.stderr
    assert "at least 32 bytes" in served.stderr
    assert "Traceback" not in served.stderr
    assert not (tmp_path / "sessile.db").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"only-31-bytes-of-secret-key-abc\n", "at least 32 bytes"),
        (b"  \n", "at least 32 bytes"),
        (b"\xff\xfe" + b"\x80" * 60, "not UTF-8"),
    ],
    ids=["short", "blank", "not-utf-8"],
)
def test_an_unusable_secret_key_file_is_a_settings_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "secret.key").write_bytes(content)
    env = {name: value for name, value in os.environ.items() if name != "SESSILE_SECRET_KEY"}
    served = subprocess.run(
        [sys.executable, "-m", "sessile", "serve", "--port", "1"],
        env={**env, "SESSILE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert served.returncode == 2, served.stderr
    assert "Traceback" not in served.stderr
    assert served.stderr.startswith("sessile: invalid configuration:")
    assert str(tmp_path / "secret.key") in served.stderr
    assert message in served.stderr
    assert not (tmp_path / "sessile.db").exists()
    assert (tmp_path / "secret.key").read_bytes() == content, "the file is left as it was"


def test_a_port_taken_by_another_listener_fails_clearly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "sessile", "serve", "--port", str(port), "--workers", "2"],
            env={**os.environ, "SESSILE_DATA_DIR": str(tmp_path), "SESSILE_SECRET_KEY": "s" * 48},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
