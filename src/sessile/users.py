"""User operations shared by the management API and ``sessile users``, so both keep the
same order of steps (DESIGN §5, §7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import StringConstraints

from sessile.clock import Clock
from sessile.errors import BadRequest, NotFound
from sessile.login.passwords import Passwords
from sessile.sessions import SessionService
from sessile.storable import unstorable_path
from sessile.store.database import Database
from sessile.store.identities import Identity
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

__all__ = ["SCOPE", "UNSET", "USER_ID", "UserService"]

#: A scope granted to a user: a space-free token, as in an OAuth ``scope`` (RFC 6749 §3.3).
SCOPE = Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")]
#: A user id the caller chooses (Prelude's example is a UUID): it goes into URL paths and
#: the ``sub`` claim as it is, so letters, digits, ``_`` and ``-`` only, and at most the 40
#: characters the id columns hold.
USER_ID = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]


class _Unset:
    """A field the caller leaves as it is (None is a value: it clears the field)."""


UNSET: Any = _Unset


def _check_storable(**fields: Any) -> None:
    """BadRequest when a field holds a NUL or a lone surrogate: no PostgreSQL column takes
    one, no response could show it, and every token the claims mapping fills from the
    field would carry it."""
    for name, value in fields.items():
        where = unstorable_path(value, name)
        if where is not None:
            raise BadRequest(f"{where}: holds a NUL character or a lone surrogate.")


class UserService:
    def __init__(
        self, db: Database, passwords: Passwords, sessions: SessionService, clock: Clock
    ) -> None:
        self._db = db
        self._passwords = passwords
        self._sessions = sessions
        self._clock = clock

    # Reading -------------------------------------------------------------------------------
    async def get(self, user_id: str) -> User | None:
        return await self._db.users.get(user_id)

    async def existing(self, user_id: str) -> User:
        user = await self._db.users.get(user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    async def page(self, *, limit: int, offset: int) -> tuple[list[User], int]:
        """A page of users, oldest first, and how many there are in all."""
        return await self._db.users.list(limit=limit, offset=offset)

    async def holding(self, identifier: Identifier, *, offset: int = 0) -> tuple[list[User], int]:
        """The one user holding ``identifier`` as a page (empty past its first item)."""
        found = await self._db.users.find_by_identifier(identifier)
        if found is None:
            return [], 0
        return ([found] if offset == 0 else []), 1

    async def lookup(
        self, *, external_ids: Sequence[str], identifiers_: Sequence[Identifier]
    ) -> Sequence[User]:
        """The users holding any of these external ids or identifiers, oldest first."""
        return await self._db.users.lookup(external_ids=external_ids, identifiers_=identifiers_)

    async def identities(self, users: Sequence[User]) -> dict[str, list[Identity]]:
        """The social-login identities linked to each of ``users``, by user id."""
        return await self._db.identities.for_users([u.id for u in users])

    # Changing ------------------------------------------------------------------------------
    async def create(
        self,
        identifiers_: Sequence[Identifier],
        *,
        profile: Mapping[str, Any] | None = None,
        password: str | None = None,
        proven: Sequence[Identifier] = (),
        external_id: str | None = None,
        scopes: Sequence[str] = (),
        user_id: str | None = None,
    ) -> User:
        """Create a user; a password is checked against the policy and hashed first.
        ``proven`` names the identifiers the operator vouches for; ``user_id`` is the
        caller's choice of id (``USER_ID``), Conflict when taken."""
        _check_storable(profile=profile, external_id=external_id)
        password_hash = None if password is None else await self._passwords.hash(password)
        # Two spellings of one address name the same identifier: keep it once.
        return await self._db.users.create(
            now=self._clock.now(),
            identifiers_=list(dict.fromkeys(identifiers_)),
            profile=profile,
            password_hash=password_hash,
            proven=proven,
            external_id=external_id,
            scopes=scopes,
            user_id=user_id,
        )

    async def update(
        self,
        user_id: str,
        *,
        profile_patch: Mapping[str, Any] | None = None,
        disabled: bool | None = None,
    ) -> User | None:
        """Patch the profile and set the disabled mark; disabling revokes every session,
        after the mark is set so that no new login slips in between."""
        _check_storable(profile=profile_patch)
        user = await self._db.users.update(
            user_id, now=self._clock.now(), profile_patch=profile_patch, disabled=disabled
        )
        if user is not None and disabled:
            await self._sessions.revoke_user(user_id, reason="user_disabled")
        return user

    async def set_fields(
        self, user_id: str, *, external_id: str | None = UNSET, scopes: Sequence[str] | None = None
    ) -> User | None:
        """Set the external id (None clears it) and the scopes; None when no such user,
        Conflict when another user has the external id."""
        if external_id is not UNSET:
            _check_storable(external_id=external_id)
        fields: dict[str, Any] = {"scopes": scopes}
        if external_id is not UNSET:
            fields["external_id"] = external_id
        return await self._db.users.set_fields(user_id, now=self._clock.now(), **fields)

    async def delete(self, user_id: str) -> bool:
        """Disable (no new login), revoke every session (the revocation feed records it),
        then delete the user with their identifiers and session rows."""
        if await self._db.users.update(user_id, now=self._clock.now(), disabled=True) is None:
            return False
        await self._sessions.revoke_user(user_id, reason="user_deleted")
        return await self._db.users.delete(user_id, now=self._clock.now())

    async def set_password(
        self, user_id: str, password: str | None, *, revoke_sessions: bool
    ) -> User | None:
        """Set (policy enforced) or, with None, remove the password; None if no such user."""
        if await self._db.users.get(user_id) is None:
            return None
        password_hash = None if password is None else await self._passwords.hash(password)
        if not await self._db.passwords.set_hash(user_id, password_hash, now=self._clock.now()):
            return None
        if revoke_sessions:
            await self._sessions.revoke_user(user_id, reason="password_changed")
        return await self._db.users.get(user_id)

    async def add_identifier(self, user_id: str, identifier: Identifier, *, proven: bool) -> User:
        """Give the user another identifier (``proven`` when the operator vouches for it)."""
        if not await self._db.identifiers.add(
            user_id, identifier, now=self._clock.now(), proven=proven
        ):
            raise NotFound("No such user.")
        return await self.existing(user_id)

    async def remove_identifier(self, user_id: str, identifier: Identifier) -> User:
        await self.existing(user_id)
        if not await self._db.identifiers.remove(user_id, identifier, now=self._clock.now()):
            raise NotFound("The user does not hold this identifier.")
        return await self.existing(user_id)

    async def revoke_session(self, user_id: str, session_id: str | None) -> int:
        """An operator revokes one live session of the user (``not_found`` when it isn't
        one), or with None every one of them; reason ``admin``."""
        await self.existing(user_id)
        if session_id is None:
            return await self._sessions.revoke_user(user_id, reason="admin")
        if not await self._sessions.revoke_one(session_id, reason="admin", user_id=user_id):
            raise NotFound("The user has no live session with this id.")
        return 1
