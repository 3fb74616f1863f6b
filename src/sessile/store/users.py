"""Users: the user record with its profile, external id and scopes, read together with
the user's identifiers. The identifiers themselves are kept by
:mod:`sessile.store.user_identifiers`, the password hash by :mod:`sessile.store.passwords`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sessile import event_types as event
from sessile.errors import Conflict, IdentifierAlreadyExists
from sessile.ids import new_id
from sessile.store.audit import audit_steps
from sessile.store.drivers import IntegrityViolation, One, Steps
from sessile.store.event_documents import change_source
from sessile.store.events import Subscribers, event_steps
from sessile.store.locking import in_order, lock_steps
from sessile.store.schema import identifiers, sessions, users
from sessile.store.sql import Record, Store, bound, fetch, names, numbered, prepared, shaped
from sessile.store.user_identifiers import Identifier, held_steps, identifier_doc

__all__ = ["NewUser", "User", "UserStore", "merge_patch", "new_user_steps"]


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


def _users(records: Sequence[Record]) -> list[User]:
    """The users of :func:`_with_identifiers`' rows, in their order."""
    found: dict[str, tuple[Record, list[Identifier], set[Identifier]]] = {}
    for record in records:
        _, held, proven = found.setdefault(record["id"], (record, [], set()))
        if record["type"] is not None:
            identifier = Identifier(record["type"], record["value"])
            held.append(identifier)
            if record["verified_at"] is not None:
                proven.add(identifier)
    return [
        User(
            id=row["id"],
            profile=row["profile"],
            password_hash=row["password_hash"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            disabled_at=row["disabled_at"],
            identifiers=tuple(held),
            proven=frozenset(proven),
            password_unproven=bool(row["password_unproven"]),
            external_id=row["external_id"],
            scopes=tuple(row["scopes"] or ()),
        )
        for row, held, proven in found.values()
    ]


_IDENTIFIED = users.outerjoin(identifiers, identifiers.c.user_id == users.c.id)
#: Identifiers a lookup matches, apart from those the users' rows join.
_HELD = identifiers.alias("held")


def _with_identifiers(source: sa.FromClause = _IDENTIFIED) -> sa.Select[Any]:
    """Users with their identifiers: a row per identifier (one without for a user who has
    none), oldest user first, each user's identifiers in order."""
    return (
        sa.select(*users.c, identifiers.c.type, identifiers.c.value, identifiers.c.verified_at)
        .select_from(source)
        .order_by(users.c.created_at, users.c.id, identifiers.c.type, identifiers.c.value)
    )


def _paged() -> sa.Select[Any]:
    page = (
        sa.select(users.c.id)
        .order_by(users.c.created_at, users.c.id)
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
        .subquery("page")
    )
    paged = users.join(page, page.c.id == users.c.id)
    return _with_identifiers(paged.outerjoin(identifiers, identifiers.c.user_id == users.c.id))


def _set_fields(external_id: bool, scopes: bool) -> sa.Update:
    values: dict[str, Any] = {"updated_at": sa.bindparam("now")}
    if external_id:
        values["external_id"] = sa.bindparam("external_id")
    if scopes:
        values["scopes"] = sa.bindparam("scopes")
    return (
        users.update().where(users.c.id == sa.bindparam("id")).values(values).returning(users.c.id)
    )


def _lookup(external_ids: int, identifiers_: int) -> sa.Select[Any]:
    conditions: list[sa.ColumnElement[bool]] = []
    if external_ids:
        conditions.append(users.c.external_id.in_(names("external_id", external_ids)))
    if identifiers_:
        pairs = [
            sa.tuple_(sa.bindparam(f"type{i}"), sa.bindparam(f"value{i}"))
            for i in range(identifiers_)
        ]
        held = sa.select(_HELD.c.user_id).where(sa.tuple_(_HELD.c.type, _HELD.c.value).in_(pairs))
        conditions.append(users.c.id.in_(held))
    return _with_identifiers().where(sa.or_(*conditions))


@dataclass(frozen=True)
class NewUser:
    """A user to make, with the identifiers they hold: made alone by
    :meth:`UserStore.create`, or with their first session, in its transaction, by
    :meth:`~sessile.store.sessions.SessionStore.create`."""

    id: str
    now: float
    identifiers: tuple[Identifier, ...] = ()
    #: Those of ``identifiers`` already proven (by a code, or by the operator).
    proven: frozenset[Identifier] = frozenset()
    profile: Mapping[str, Any] = field(default_factory=dict)
    password_hash: str | None = None
    password_unproven: bool = False
    external_id: str | None = None
    scopes: tuple[str, ...] = ()

    def user(self) -> User:
        """The user, as made."""
        return User(
            self.id,
            dict(self.profile),
            self.password_hash,
            self.now,
            self.now,
            None,
            self.identifiers,
            self.proven,
            self.password_unproven,
            self.external_id,
            self.scopes,
        )


def new_user_steps(
    dialect: Dialect, new: NewUser, *, subscribers: Subscribers | None = None
) -> Steps[None]:
    """The steps that make ``new``: the user's row, ``user.created``, the identifiers, and an
    ``identifier.proven`` audit row for each proven one. A taken identifier (or id, or
    external id) fails the transaction with an integrity violation. ``subscribers``: the
    webhook endpoints the transaction read already."""
    yield One(
        UserStore._insert.on(dialect),
        {
            "id": new.id,
            "profile": dict(new.profile),
            "password_hash": new.password_hash,
            "password_unproven": new.password_unproven,
            "created_at": new.now,
            "updated_at": new.now,
            "external_id": new.external_id,
            "scopes": list(new.scopes),
        },
    )
    yield from event_steps(
        dialect,
        event.USER_CREATED,
        user_id=new.id,
        payload={
            "identifiers": [identifier_doc(i, i in new.proven) for i in new.identifiers],
            "profile": dict(new.profile),
            "source": change_source(),
            "external_id": new.external_id,
        },
        now=new.now,
        subscribers=subscribers,
    )
    yield from held_steps(dialect, new.id, new.identifiers, proven=new.proven, now=new.now)
    for i in new.identifiers:
        if i in new.proven:
            yield from audit_steps(
                dialect, "identifier.proven", now=new.now, user_id=new.id, data={"type": i.type}
            )


class UserStore(Store):
    _insert = prepared(
        lambda: users.insert().values(
            bound(
                "id", "profile", "password_hash", "password_unproven", "created_at",
                "updated_at", "external_id", "scopes",
            )
        )
    )  # fmt: skip
    _get = prepared(lambda: _with_identifiers().where(users.c.id == sa.bindparam("id")))
    _find_by_identifier = prepared(
        lambda: _with_identifiers().where(
            users.c.id.in_(
                sa.select(_HELD.c.user_id).where(
                    _HELD.c.type == sa.bindparam("type"), _HELD.c.value == sa.bindparam("value")
                )
            )
        )
    )
    _find_by_external_id = prepared(
        lambda: _with_identifiers().where(users.c.external_id == sa.bindparam("external_id"))
    )
    _total = prepared(lambda: sa.select(sa.func.count().label("total")).select_from(users))
    _page = prepared(_paged)
    _touch = prepared(
        lambda: (
            users.update()
            .where(users.c.id == sa.bindparam("id"))
            .values(updated_at=sa.bindparam("now"))
            .returning(users.c.id)
        )
    )
    _change = prepared(
        lambda: (
            users.update()
            .where(users.c.id == sa.bindparam("id"))
            .values(profile=sa.bindparam("profile"), disabled_at=sa.bindparam("disabled_at"))
        )
    )
    _lock = prepared(lambda: in_order(sessions.c.user_id == sa.bindparam("user_id")))
    _delete = prepared(
        lambda: users.delete().where(users.c.id == sa.bindparam("id")).returning(users.c.id)
    )

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

        ``proven`` names the identifiers already proven (by a code, or by the operator),
        each recorded in the audit trail as ``identifier.proven``.
        """
        new = NewUser(
            id=user_id or new_id("usr"),
            now=now,
            identifiers=tuple(identifiers_),
            proven=frozenset(i for i in identifiers_ if i in proven),
            profile=dict(profile or {}),
            password_hash=password_hash,
            password_unproven=password_unproven,
            external_id=external_id,
            scopes=tuple(scopes),
        )
        try:
            await self.transaction(new_user_steps(self.dialect, new))
        except IntegrityViolation as exc:
            # The transaction rolled back whole: whichever row failed, nothing was created.
            if user_id is not None and await self.get(user_id):
                raise Conflict("A user with this id exists.") from exc
            if external_id is not None and await self.find_by_external_id(external_id):
                raise Conflict("Another user has this external_id.") from exc
            raise IdentifierAlreadyExists() from exc
        return new.user()

    async def get(self, user_id: str) -> User | None:
        return _first(await self._records(self._get, id=user_id))

    async def find_by_identifier(self, identifier: Identifier) -> User | None:
        records = await self._records(
            self._find_by_identifier, type=identifier.type, value=identifier.value
        )
        return _first(records)

    async def list(self, *, limit: int, offset: int) -> tuple[list[User], int]:
        """A page of users, oldest first (so paging through stays stable while users
        are added), and how many there are in all."""
        total = await self._record(self._total)
        page = await self._records(self._page, limit=limit, offset=offset)
        return _users(page), 0 if total is None else int(total["total"])

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

        def steps() -> Steps[User | None]:
            # Writing first takes the row lock (PostgreSQL; on SQLite the transaction holds
            # the write lock from its start), so two concurrent patches can't both merge
            # into the same old profile.
            touched = yield One(self._touch, {"id": user_id, "now": now})
            if not touched:
                return None
            [current] = _users((yield from fetch(self._get, id=user_id)))
            profile, disabled_at = current.profile, current.disabled_at
            if profile_patch is not None:
                profile = merge_patch(current.profile, profile_patch)
                if profile != current.profile:
                    yield from event_steps(
                        self.dialect,
                        event.USER_PROFILE_UPDATED,
                        user_id=user_id,
                        payload={"profile": profile},
                        now=now,
                    )
            if disabled is True and current.disabled_at is None:
                disabled_at = now
            elif disabled is False:
                disabled_at = None
            if (profile, disabled_at) != (current.profile, current.disabled_at):
                yield One(
                    self._change, {"id": user_id, "profile": profile, "disabled_at": disabled_at}
                )
            return replace(current, profile=profile, disabled_at=disabled_at)

        return await self.transaction(steps())

    async def delete(self, user_id: str, *, now: float) -> bool:
        def steps() -> Steps[bool]:
            # The cascade deletes the user's sessions: locked first, as rotations lock them.
            yield from lock_steps(self.dialect, self._lock, {"user_id": user_id})
            deleted = yield One(self._delete, {"id": user_id})
            if not deleted:
                return False
            yield from event_steps(
                self.dialect, event.USER_DELETED, user_id=user_id, payload={}, now=now
            )
            return True

        return await self.transaction(steps())

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
        sets_external_id, sets_scopes = external_id is not _Unset, scopes is not None
        statement = shaped(
            self.dialect,
            ("users.set_fields", sets_external_id, sets_scopes),
            lambda: _set_fields(sets_external_id, sets_scopes),
        )
        params = {
            "id": user_id,
            "now": now,
            "external_id": external_id,
            "scopes": None if scopes is None else list(dict.fromkeys(scopes)),
        }

        def steps() -> Steps[User | None]:
            changed = yield One(statement, params)
            if not changed:
                return None
            return _first((yield from fetch(self._get, id=user_id)))

        try:
            return await self.transaction(steps())
        except IntegrityViolation as exc:
            raise Conflict("Another user has this external_id.") from exc

    async def find_by_external_id(self, external_id: str) -> User | None:
        return _first(await self._records(self._find_by_external_id, external_id=external_id))

    async def lookup(
        self, *, external_ids: Sequence[str], identifiers_: Sequence[Identifier]
    ) -> Sequence[User]:
        """The users holding any of these external ids or identifiers, oldest first."""
        if not external_ids and not identifiers_:
            return []
        by_external_id, by_identifier = len(external_ids), len(identifiers_)
        statement = shaped(
            self.dialect,
            ("users.lookup", by_external_id, by_identifier),
            lambda: _lookup(by_external_id, by_identifier),
        )
        records = await self._records(
            statement,
            **numbered("external_id", external_ids),
            **numbered("type", [i.type for i in identifiers_]),
            **numbered("value", [i.value for i in identifiers_]),
        )
        return _users(records)


def _first(records: Sequence[Record]) -> User | None:
    found = _users(records)
    return found[0] if found else None
