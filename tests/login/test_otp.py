"""A code login's new user, made with the first session in one transaction: what
:meth:`OtpLogin.check` leaves to the session with ``deferred_user``, and what happens when
two logins for one new address race to make it."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sessile.config import load_settings
from sessile.context import AppContext
from sessile.errors import IdentifierAlreadyExists
from sessile.login.otp import OtpResult
from sessile.sessions import ClientFacts, IssuedTokens
from sessile.sessions.device import Device
from sessile.store.migrate import upgrade
from sessile.store.user_identifiers import Identifier

# The context keeps its secrets in the database: each test has a database of its own.
pytestmark = pytest.mark.parametrize("fresh_database_url", ["sqlite", "postgres"], indirect=True)
FACTS = ClientFacts("127.0.0.1", None, None, Device("desktop", None, None, None))


@pytest.fixture
async def context(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[AppContext]:
    built = AppContext.build(
        load_settings(
            database_url=fresh_database_url,
            secret_key="test-secret-" + "x" * 40,
            data_dir=str(tmp_path),
        )
    )
    try:
        await upgrade(built.db.engine)
        await built.ring.ensure()
        yield built
    finally:
        await built.db.close()


@pytest.fixture
def email() -> Identifier:
    """An address of its own."""
    return Identifier("email_address", f"new-{secrets.token_hex(4)}@example.com")


async def _checked(context: AppContext, identifier: Identifier) -> OtpResult:
    """A code login started and its code checked, the new user left to the session."""
    token = await context.otp.start(identifier, ip="127.0.0.1")
    await context.sender.deliver_due()
    sent = await asyncio.to_thread(Path(context.settings.outbox_file).read_text)
    code = [json.loads(line) for line in sent.splitlines() if identifier.value in line][-1]["code"]
    return await context.otp.check(token, code, deferred_user=True)


async def _session(context: AppContext, result: OtpResult) -> IssuedTokens:
    return await context.sessions.create(
        user_id=result.user_id,
        jkt="k" * 43,
        auth_method=result.auth_method,
        client=FACTS,
        new_user=result.new_user,
    )


async def _session_ids(context: AppContext, user_id: str) -> set[str]:
    rows, _ = await context.db.sessions.list_active(
        user_id, now=context.clock.now(), idle_since=0.0, limit=10, offset=0
    )
    return {row.id for row in rows}


async def test_the_new_user_is_made_with_the_session_not_by_the_check(
    context: AppContext, email: Identifier
) -> None:
    result = await _checked(context, email)
    assert result.new_user is not None
    assert result.new_user.id == result.user_id
    assert await context.db.users.find_by_identifier(email) is None

    issued = await _session(context, result)
    user = await context.db.users.find_by_identifier(email)
    assert user is not None
    assert user.id == result.user_id == issued.user_id
    assert user.is_proven("email_address")
    assert await _session_ids(context, user.id) == {issued.session_id}


async def test_two_logins_racing_for_a_new_address_end_in_one_user(
    context: AppContext, email: Identifier
) -> None:
    first = await _checked(context, email)
    second = await _checked(context, email)
    assert first.new_user is not None
    assert second.new_user is not None
    assert first.user_id != second.user_id

    made = await _session(context, first)
    with pytest.raises(IdentifierAlreadyExists):
        await _session(context, second)
    # Neither the second user nor its session was made.
    assert await context.db.users.get(second.user_id) is None

    instead = await context.otp.made_meanwhile(second)
    assert instead.user_id == made.user_id
    assert instead.new_user is None
    joined = await _session(context, instead)
    assert joined.user_id == made.user_id
    assert await _session_ids(context, made.user_id) == {made.session_id, joined.session_id}


async def test_a_returning_user_is_found_and_nothing_is_deferred(
    context: AppContext, email: Identifier
) -> None:
    await _session(context, await _checked(context, email))
    again = await _checked(context, email)
    assert again.new_user is None
    user = await context.db.users.find_by_identifier(email)
    assert user is not None
    assert again.user_id == user.id
