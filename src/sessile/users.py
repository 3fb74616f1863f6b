"""User operations shared by the management API and ``sessile users``, so both keep the
same order of steps (DESIGN §5, §7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import StringConstraints

from sessile.context import AppContext
from sessile.errors import NotFound
from sessile.store.users import Identifier, User

__all__ = [
    "SCOPE",
    "add_identifier",
    "create_user",
    "delete_user",
    "existing_user",
    "remove_identifier",
    "set_password",
    "update_user",
]

#: A scope granted to a user: a space-free token, as in an OAuth ``scope`` (RFC 6749 §3.3).
SCOPE = Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")]


async def existing_user(context: AppContext, user_id: str) -> User:
    user = await context.db.users.get(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


async def create_user(
    context: AppContext,
    identifiers_: Sequence[Identifier],
    *,
    profile: Mapping[str, Any] | None = None,
    password: str | None = None,
    proven: Sequence[Identifier] = (),
    external_id: str | None = None,
    scopes: Sequence[str] = (),
) -> User:
    """Create a user; a password is checked against the policy and hashed first.
    ``proven`` names the identifiers the operator vouches for."""
    password_hash = None if password is None else await context.passwords.hash(password)
    # Two spellings of one address name the same identifier: keep it once.
    return await context.db.users.create(
        now=context.clock.now(),
        identifiers_=list(dict.fromkeys(identifiers_)),
        profile=profile,
        password_hash=password_hash,
        proven=proven,
        external_id=external_id,
        scopes=scopes,
    )


async def update_user(
    context: AppContext,
    user_id: str,
    *,
    profile_patch: Mapping[str, Any] | None = None,
    disabled: bool | None = None,
) -> User | None:
    """Patch the profile and set the disabled mark; disabling revokes every session,
    after the mark is set so that no new login slips in between."""
    user = await context.db.users.update(
        user_id, now=context.clock.now(), profile_patch=profile_patch, disabled=disabled
    )
    if user is not None and disabled:
        await context.sessions.revoke_user(user_id, reason="user_disabled")
    return user


async def delete_user(context: AppContext, user_id: str) -> bool:
    """Disable (no new login), revoke every session (the revocation feed records it),
    then delete the user with their identifiers and session rows."""
    if await context.db.users.update(user_id, now=context.clock.now(), disabled=True) is None:
        return False
    await context.sessions.revoke_user(user_id, reason="user_deleted")
    return await context.db.users.delete(user_id, now=context.clock.now())


async def set_password(
    context: AppContext, user_id: str, password: str | None, *, revoke_sessions: bool
) -> User | None:
    """Set (policy enforced) or, with None, remove the password; None if no such user."""
    if await context.db.users.get(user_id) is None:
        return None
    password_hash = None if password is None else await context.passwords.hash(password)
    if not await context.db.users.set_password_hash(
        user_id, password_hash, now=context.clock.now()
    ):
        return None
    if revoke_sessions:
        await context.sessions.revoke_user(user_id, reason="password_changed")
    return await context.db.users.get(user_id)


async def add_identifier(
    context: AppContext, user_id: str, identifier: Identifier, *, proven: bool
) -> User:
    """Give the user another identifier (``proven`` when the operator vouches for it)."""
    if not await context.db.users.add_identifier(
        user_id, identifier, now=context.clock.now(), proven=proven
    ):
        raise NotFound("No such user.")
    return await existing_user(context, user_id)


async def remove_identifier(context: AppContext, user_id: str, identifier: Identifier) -> User:
    await existing_user(context, user_id)
    if not await context.db.users.remove_identifier(user_id, identifier, now=context.clock.now()):
        raise NotFound("The user does not hold this identifier.")
    return await existing_user(context, user_id)
