"""Users: the user record with its profile, external id and scopes, read together with
the user's identifiers. The identifiers themselves are kept by
:mod:`sessile.store.user_identifiers`, the password hash by :mod:`sessile.store.passwords`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sessile import event_types as event
from sessile.errors import Conflict, IdentifierAlreadyExists
from sessile.ids import new_id
from sessile.store.event_documents import change_source
from sessile.store.events import record_event
from sessile.store.schema import identifiers, sessions, users
from sessile.store.sessions import lock_in_order
from sessile.store.user_identifiers import Identifier, identifier_doc

__all__ = ["User", "UserStore", "merge_patch"]


@dataclass(frozen=True)
class User:
    id: str
    profile: Mapping[str, Any]
    password_hash: str | None
    created_at: float
    updated_at: float
    disabled_at: float | None
    identifiers: tuple[Identifier, ...]
    #: The identifiers a code (or a trusted assertion) proved the user owns.
    proven: frozenset[Identifier] = frozenset()
    #: The password came from a sign-up that no proof has backed yet.
    password_unproven: bool = False
    #: The user's id in the app's own system.
    external_id: str | None = None
    #: Scopes granted to the user.
    scopes: tuple[str, ...] = ()

    def is_proven(self, identifier_type: str) -> bool:
        """Whether some identifier of this type (``email_address``, ``phone_number``) is proven."""
        return any(i.type == identifier_type for i in self.proven)


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396 JSON Merge Patch of one object by another: ``null`` removes a member,
    objects merge member by member, anything else replaces."""
    merged = dict(target)
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        elif isinstance(value, Mapping):
            current = merged.get(name)
            merged[name] = merge_patch(current if isinstance(current, Mapping) else {}, value)
        else:
            merged[name] = value
    return merged


class _Unset:
    """Marks an argument left out (where None means "clear")."""


@dataclass
class _Identifiers:
    all: list[Identifier]
    proven: set[Identifier]


def _user(row: sa.Row[Any], idents: _Identifiers) -> User:
    return User(
        id=row.id,
        profile=row.profile,
        password_hash=row.password_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        disabled_at=row.disabled_at,
        identifiers=tuple(idents.all),
        proven=frozenset(idents.proven),
        password_unproven=bool(row.password_unproven),
        external_id=row.external_id,
        scopes=tuple(row.scopes or ()),
    )


async def _identifiers_of(
    conn: AsyncConnection, user_ids: Sequence[str]
) -> dict[str, _Identifiers]:
    found = {user_id: _Identifiers([], set()) for user_id in user_ids}
    if not user_ids:
        return found
    rows = await conn.execute(
        sa.select(
            identifiers.c.user_id,
            identifiers.c.type,
            identifiers.c.value,
            identifiers.c.verified_at,
        )
        .where(identifiers.c.user_id.in_(user_ids))
        .order_by(identifiers.c.type, identifiers.c.value)
    )
    for row in rows:
        identifier = Identifier(row.type, row.value)
        found[row.user_id].all.append(identifier)
        if row.verified_at is not None:
            found[row.user_id].proven.add(identifier)
    return found


class UserStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        *,
        now: float,
        identifiers_: Sequence[Identifier] = (),
        profile: Mapping[str, Any] | None = None,
        password_hash: str | None = None,
        proven: Sequence[Identifier] = (),
        password_unproven: bool = False,
        external_id: str | None = None,
        scopes: Sequence[str] = (),
        user_id: str | None = None,
    ) -> User:
        """Create a user; raise IdentifierAlreadyExists if an identifier is taken, and
        Conflict if ``user_id`` (the caller's choice; a new ``usr_…`` id without it) is.

        ``proven`` names the identifiers already proven (by a code, or by the operator).
        """
        chosen_id = user_id
        user_id = chosen_id or new_id("usr")
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    users.insert().values(
                        id=user_id,
                        profile=dict(profile or {}),
                        password_hash=password_hash,
                        password_unproven=password_unproven,
                        created_at=now,
                        updated_at=now,
                        external_id=external_id,
                        scopes=list(scopes),
                    )
                )
                await record_event(
                    conn,
                    event.USER_CREATED,
                    user_id=user_id,
                    payload={
                        "identifiers": [identifier_doc(i, i in proven) for i in identifiers_],
                        "profile": dict(profile or {}),
                        "source": change_source(),
                        "external_id": external_id,
                    },
                    now=now,
                )
                if identifiers_:
                    await conn.execute(
                        identifiers.insert(),
                        [
                            {
                                "type": i.type,
                                "value": i.value,
                                "user_id": user_id,
                                "created_at": now,
                                "verified_at": now if i in proven else None,
                            }
                            for i in identifiers_
                        ],
                    )
        except IntegrityError as exc:
            # The transaction rolled back whole: whichever row failed, nothing was created.
            if chosen_id is not None and await self.get(chosen_id):
                raise Conflict("A user with this id exists.") from exc
            if external_id is not None and await self.find_by_external_id(external_id):
                raise Conflict("Another user has this external_id.") from exc
            raise IdentifierAlreadyExists() from exc
        return User(
            user_id,
            dict(profile or {}),
            password_hash,
            now,
            now,
            None,
            tuple(identifiers_),
            frozenset(i for i in identifiers_ if i in proven),
            password_unproven,
            external_id,
            tuple(scopes),
        )

    async def get(self, user_id: str) -> User | None:
        async with self._engine.connect() as conn:
            return await self._get(conn, user_id)

    async def _get(self, conn: AsyncConnection, user_id: str) -> User | None:
        row = (await conn.execute(users.select().where(users.c.id == user_id))).first()
        if row is None:
            return None
        return _user(row, (await _identifiers_of(conn, [user_id]))[user_id])

    async def find_by_identifier(self, identifier: Identifier) -> User | None:
        async with self._engine.connect() as conn:
            user_id = await conn.scalar(
                sa.select(identifiers.c.user_id).where(
                    identifiers.c.type == identifier.type, identifiers.c.value == identifier.value
                )
            )
        return None if user_id is None else await self.get(user_id)

    async def list(self, *, limit: int, offset: int) -> tuple[list[User], int]:
        """A page of users, oldest first (so paging through stays stable while users
        are added), and how many there are in all."""
        async with self._engine.connect() as conn:
            total = await conn.scalar(sa.select(sa.func.count()).select_from(users))
            rows = (
                await conn.execute(
                    users.select()
                    .order_by(users.c.created_at, users.c.id)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
            idents = await _identifiers_of(conn, [r.id for r in rows])
        return [_user(r, idents[r.id]) for r in rows], int(total or 0)

    async def update(
        self,
        user_id: str,
        *,
        now: float,
        profile_patch: Mapping[str, Any] | None = None,
        disabled: bool | None = None,
    ) -> User | None:
        """Merge ``profile_patch`` into the profile (RFC 7396) and set or clear the
        disabled mark; None when there is no such user.

        Disabling an already disabled user keeps the time it was first disabled.
        """
        async with self._engine.begin() as conn:
            # Writing first takes the row lock (PostgreSQL) or the write lock (SQLite, whose
            # driver would otherwise run the read below outside the transaction), so two
            # concurrent patches can't both merge into the same old profile.
            touched = await conn.execute(
                users.update().where(users.c.id == user_id).values(updated_at=now)
            )
            if touched.rowcount != 1:
                return None
            current = (await conn.execute(users.select().where(users.c.id == user_id))).one()
            values: dict[str, Any] = {}
            if profile_patch is not None:
                values["profile"] = merge_patch(current.profile, profile_patch)
                if values["profile"] != current.profile:
                    await record_event(
                        conn,
                        event.USER_PROFILE_UPDATED,
                        user_id=user_id,
                        payload={"profile": values["profile"]},
                        now=now,
                    )
            if disabled is True and current.disabled_at is None:
                values["disabled_at"] = now
            elif disabled is False:
                values["disabled_at"] = None
            if values:
                await conn.execute(users.update().where(users.c.id == user_id).values(**values))
            return await self._get(conn, user_id)

    async def delete(self, user_id: str, *, now: float) -> bool:
        async with self._engine.begin() as conn:
            # The cascade deletes the user's sessions: locked first, as rotations lock them.
            await lock_in_order(conn, sessions.c.user_id == user_id)
            result = await conn.execute(users.delete().where(users.c.id == user_id))
            if result.rowcount == 1:
                await record_event(conn, event.USER_DELETED, user_id=user_id, payload={}, now=now)
        return result.rowcount == 1

    async def set_fields(
        self,
        user_id: str,
        *,
        now: float,
        external_id: str | type[_Unset] | None = _Unset,
        scopes: Sequence[str] | None = None,
    ) -> User | None:
        """Set the external id (None clears it) and the scopes; None when no such user,
        Conflict when another user has the external id."""
        values: dict[str, Any] = {"updated_at": now}
        if external_id is not _Unset:
            values["external_id"] = external_id
        if scopes is not None:
            values["scopes"] = list(dict.fromkeys(scopes))
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    users.update().where(users.c.id == user_id).values(**values)
                )
                if result.rowcount != 1:
                    return None
                return await self._get(conn, user_id)
        except IntegrityError as exc:
            raise Conflict("Another user has this external_id.") from exc

    async def find_by_external_id(self, external_id: str) -> User | None:
        async with self._engine.connect() as conn:
            user_id = await conn.scalar(
                sa.select(users.c.id).where(users.c.external_id == external_id)
            )
        return None if user_id is None else await self.get(user_id)

    async def lookup(
        self, *, external_ids: Sequence[str], identifiers_: Sequence[Identifier]
    ) -> Sequence[User]:
        """The users holding any of these external ids or identifiers, oldest first."""
        conditions: list[sa.ColumnElement[bool]] = []
        if external_ids:
            conditions.append(users.c.external_id.in_(external_ids))
        if identifiers_:
            held = sa.select(identifiers.c.user_id).where(
                sa.tuple_(identifiers.c.type, identifiers.c.value).in_(
                    [(i.type, i.value) for i in identifiers_]
                )
            )
            conditions.append(users.c.id.in_(held))
        if not conditions:
            return []
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    users.select()
                    .where(sa.or_(*conditions))
                    .order_by(users.c.created_at, users.c.id)
                )
            ).all()
            idents = await _identifiers_of(conn, [r.id for r in rows])
        return [_user(r, idents[r.id]) for r in rows]
