"""``sessile users …`` on a SQLite file: in process through click (the same code path as the
installed command), plus one run of the real ``python -m sessile`` entry point."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sessile.cli import main
from sessile.config import load_settings
from sessile.context import AppContext
from sessile.login.passwords import PasswordPolicy, Passwords
from sessile.sessions import ClientFacts
from sessile.sessions.device import Device
from sessile.store.migrate import upgrade

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"
EMAIL_A = ("--email", "a@example.com")

Cli = Callable[..., Result]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SESSILE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sessile.db'}",
        "SESSILE_SECRET_KEY": SECRET,
        "SESSILE_DATA_DIR": str(tmp_path),
    }


@pytest.fixture
def cli(env: dict[str, str]) -> Cli:
    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, ["users", *args], input=stdin, env=env)

    return run


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _in_context(env: dict[str, str], work: Callable[[AppContext], Any]) -> Any:
    """Run ``work`` against the same database as the CLI."""

    async def runner() -> Any:
        context = AppContext.build(
            load_settings(
                database_url=env["SESSILE_DATABASE_URL"],
                secret_key=env["SESSILE_SECRET_KEY"],
                data_dir=env["SESSILE_DATA_DIR"],
            )
        )
        try:
            await upgrade(context.db.engine)
            return await work(context)
        finally:
            await context.db.close()

    return asyncio.run(runner())


def _log_in(env: dict[str, str], user_id: str, count: int = 1) -> list[str]:
    async def work(context: AppContext) -> list[str]:
        await context.ring.ensure()  # sessions come with an access token, so a signing key
        facts = ClientFacts(None, None, None, Device("desktop", None, None, None))
        made = []
        for _ in range(count):
            issued = await context.sessions.create(
                user_id=user_id, jkt="k" * 43, auth_method="password", client=facts
            )
            made.append(issued.session_id)
        return made

    made: list[str] = _in_context(env, work)
    return made


def _password_matches(env: dict[str, str], user_id: str, password: str) -> bool:
    async def work(context: AppContext) -> bool:
        user = await context.db.users.get(user_id)
        assert user is not None
        if user.password_hash is None:
            return False
        return await Passwords(PasswordPolicy()).verify(user.password_hash, password)

    matches: bool = _in_context(env, work)
    return matches


def test_create_get_and_list(cli: Cli, env: dict[str, str]) -> None:
    made = _json(
        cli(
            "create",
            "--email",
            "Ada@Example.COM",
            "--phone",
            "+33 6 12 34 56 78",
            "--profile",
            '{"name": "Ada"}',
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    assert made["identifiers"] == [
        {"type": "email_address", "value": "ada@example.com", "verified": False},
        {"type": "phone_number", "value": "+33612345678", "verified": False},
    ]
    assert (made["profile"], made["has_password"], made["disabled"]) == (
        {"name": "Ada"},
        True,
        False,
    )
    assert _password_matches(env, made["id"], PASSWORD)
    assert not _password_matches(env, made["id"], PASSWORD + "\n")

    assert _json(cli("get", made["id"])) == made
    other = _json(cli("create", "--email", "b@example.com"))
    assert other["has_password"] is False

    listing = _json(cli("list"))
    assert [u["id"] for u in listing["users"]] == [made["id"], other["id"]]
    assert (listing["total"], listing["limit"], listing["offset"]) == (2, 100, 0)
    assert _json(cli("list", "--limit", "1", "--offset", "1"))["users"] == [other]
    found = _json(
        cli("list", "--identifier-type", "phone_number", "--identifier-value", "+33612345678")
    )
    assert found == {"users": [made], "total": 1, "limit": 100, "offset": 0}
    nobody = cli(
        "list", "--identifier-type", "email_address", "--identifier-value", "z@example.com"
    )
    assert _json(nobody)["total"] == 0


def test_create_and_lookup_errors(cli: Cli) -> None:
    _json(cli("create", "--email", "ada@example.com"))

    taken = cli("create", "--phone", "+33612345678", "--email", "ADA@example.com")
    assert taken.exit_code == 1
    assert "identifier_already_exists" in taken.stderr
    assert _json(cli("list"))["total"] == 1, "the failed create made no user"

    bad = cli("create", "--email", "not-an-address")
    assert bad.exit_code == 1
    assert "invalid_identifier" in bad.stderr
    weak = cli("create", "--email", "b@example.com", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 1
    assert "bad_request: The password needs at least 8 characters" in weak.stderr
    malformed = cli("list", "--identifier-type", "phone_number", "--identifier-value", "call me")
    assert malformed.exit_code == 1
    assert "invalid_identifier" in malformed.stderr

    for usage in (
        cli("create"),
        cli("create", "--email", "c@example.com", "--profile", "{nope"),
        cli("create", "--email", "c@example.com", "--profile", "[1]"),
        cli("list", "--identifier-type", "email_address"),
        cli("list", "--identifier-type", "username", "--identifier-value", "ada"),
        cli("set-password", "usr_x"),
        cli("set-password", "usr_x", "--remove", "--password-stdin"),
    ):
        assert usage.exit_code == 2, usage.output
    assert _json(cli("list"))["total"] == 1

    for command in ("get", "disable", "enable", "delete", "sessions"):
        missing = cli(command, "usr_missing")
        assert missing.exit_code == 1, command
        assert "no user usr_missing" in missing.stderr
    no_user = cli("set-password", "usr_missing", "--password-stdin", stdin=PASSWORD + "\n")
    assert no_user.exit_code == 1


def test_disable_set_password_and_delete_revoke_sessions(cli: Cli, env: dict[str, str]) -> None:
    user = _json(cli("create", "--email", "ada@example.com"))
    bystander = _json(cli("create", "--email", "b@example.com"))
    revoked = _log_in(env, user["id"], count=2)
    kept = _log_in(env, bystander["id"])

    listed = _json(cli("sessions", user["id"]))
    assert listed["total"] == 2
    assert set(listed["sessions"][0]) >= {"id", "device_type", "created_at", "expires_at"}

    disabled = _json(cli("disable", user["id"]))
    assert disabled["disabled"] is True
    assert _json(cli("sessions", user["id"]))["total"] == 0
    assert _json(cli("sessions", bystander["id"]))["sessions"][0]["id"] == kept[0]
    assert _json(cli("enable", user["id"]))["disabled"] is False

    revoked += _log_in(env, user["id"])
    kept_by_default = _json(cli("set-password", user["id"], "--password-stdin", stdin=PASSWORD))
    assert kept_by_default["has_password"] is True
    assert _password_matches(env, user["id"], PASSWORD)
    assert _json(cli("sessions", user["id"]))["total"] == 1
    changed = cli(
        "set-password", user["id"], "--password-stdin", "--revoke-sessions", stdin="new one ok\n"
    )
    assert _json(changed)["has_password"] is True
    assert _password_matches(env, user["id"], "new one ok")
    assert _json(cli("sessions", user["id"]))["total"] == 0
    removed = _json(cli("set-password", user["id"], "--remove"))
    assert removed["has_password"] is False

    revoked += _log_in(env, user["id"])
    deleted = cli("delete", user["id"])
    assert deleted.exit_code == 0
    assert deleted.stdout.strip() == f"deleted {user['id']}"
    assert cli("get", user["id"]).exit_code == 1

    async def feed(context: AppContext) -> list[tuple[str, str | None]]:
        rows = await context.db.revocations.after(0, limit=100)
        return [(r.user_id, r.session_id) for r in rows]

    # Disable, the password change and the delete each left a user-wide revocation, and
    # every revoked session is named, including the one whose row went with the user.
    entries = _in_context(env, feed)
    assert entries.count((user["id"], None)) == 3
    assert {s for u, s in entries if s is not None} == set(revoked)
    assert {u for u, _ in entries} == {user["id"]}


def test_the_installed_entry_point(env: dict[str, str]) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "sessile", "users", "create", "--password-stdin", *EMAIL_A],
        input=PASSWORD + "\n",
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    user = json.loads(made.stdout)
    assert user["has_password"] is True
    assert _password_matches(env, user["id"], PASSWORD)
