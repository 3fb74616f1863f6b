"""The hot-path statements of the session store (DESIGN §5), as SQLAlchemy Core: the
refresh's rotations, the refresh proof checks, reading one session and listing a user's.
:class:`Compiled` compiles each once for the database driver (:mod:`sessile.store.drivers`)
that runs them."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import sqlalchemy as sa

from sessile.store.drivers import Driver, Statement
from sessile.store.drivers.base import compile_statement
from sessile.store.schema import sessions
from sessile.store.session_rows import Rotation, SessionRow

__all__ = [
    "GET",
    "LIST_COUNT",
    "LIST_PAGE",
    "LOCK_KEY",
    "PROOF_SEEN",
    "PROOF_TAKEN",
    "RETURNED",
    "ROTATE",
    "ROTATED",
    "ROTATE_WITH_PROOF",
    "Compiled",
    "live_condition",
]


#: What the statements that read or rotate a session return, named from SessionRow:
#: a column added to both is returned by all of them.
RETURNED = tuple(sessions.c[f.name] for f in fields(SessionRow))
#: What a rotation returns, named from Rotation.
ROTATED = tuple(sessions.c[f.name] for f in fields(Rotation))


def _p(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name)


def live_condition() -> sa.ColumnElement[bool]:
    """A session is live: not revoked, not past its end, not idle (binds ``now`` and
    ``idle_since``)."""
    return sa.and_(
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > _p("now"),
        sessions.c.last_seen_at > _p("idle_since"),
    )


def _rotation(*conditions: sa.ColumnElement[bool], **values: Any) -> sa.Update:
    """Rotate a live session whose current token and key these are; return what its new
    tokens need of it."""
    return (
        sessions.update()
        .where(
            sessions.c.id == _p("id"),
            sessions.c.generation == _p("generation"),
            sessions.c.refresh_hash == _p("hash"),
            sessions.c.jkt == _p("jkt"),
            live_condition(),
            *conditions,
        )
        .values(
            generation=_p("next_generation"),
            previous_hash=_p("hash"),
            refresh_hash=_p("new_hash"),
            rotated_at=_p("now"),
            last_seen_at=_p("now"),
            **values,
        )
        .returning(*ROTATED)
    )


# A proof becomes a session's newest; the newest before it is kept too.
_TAKE_PROOF = {
    "prev_proof_iat": sessions.c.last_proof_iat,
    "prev_proof_jti": sessions.c.last_proof_jti,
    "last_proof_iat": _p("iat"),
    "last_proof_jti": _p("jti"),
}
# The rows of a proof's key, locked in one order (PostgreSQL; SQLite has one writer at a
# time): a statement that reads the key's proofs after this waits for any rotation of
# the key still in flight, and reads what it wrote. Without the lock, two rotations
# of two sessions of one key could each take the same proof, neither seeing the other.
LOCK_KEY = (
    sa.select(sessions.c.id, sessions.c.last_proof_iat)
    .where(sessions.c.jkt == _p("jkt"))
    .order_by(sessions.c.id)
    .with_for_update()
)
_key_rows = LOCK_KEY.cte("key_rows")
# The common refresh: the proof must be newer than every refresh proof its key's
# sessions took, and becomes this session's newest. One write carries the rotation
# and the proof's replay check (DESIGN §3.7, §11).
ROTATE_WITH_PROOF = _rotation(
    ~sa.exists().where(_key_rows.c.last_proof_iat >= _p("iat")),
    **_TAKE_PROOF,
)
# The slow path's rotation, once the proof went through the replay store.
ROTATE = _rotation()
GET = sa.select(*RETURNED).where(sessions.c.id == _p("id"))
# A page and the total in one statement; an empty page counts apart.
LIST_PAGE = (
    sa.select(*RETURNED, sa.func.count().over().label("total"))
    .where(sessions.c.user_id == _p("user_id"), live_condition())
    .order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
    .limit(_p("limit"))
    .offset(_p("offset"))
)
LIST_COUNT = (
    sa.select(sa.func.count())
    .select_from(sessions)
    .where(sessions.c.user_id == _p("user_id"), live_condition())
)
# The rotation's proofs are strictly newer each time, so of those a session took, the
# ones not older than its previous are exactly its last two. Did one of the key's
# sessions take this proof (the jti), or may it have (older than the previous)?
PROOF_SEEN = sa.select(
    sa.or_(sessions.c.last_proof_jti == _p("jti"), sessions.c.prev_proof_jti == _p("jti"))
).where(
    sessions.c.jkt == _p("jkt"),
    sa.or_(
        sessions.c.last_proof_jti == _p("jti"),
        sessions.c.prev_proof_jti == _p("jti"),
        sessions.c.prev_proof_iat > _p("iat"),
    ),
)
# A proof the slow path took becomes the newest of its key's sessions that had none
# as new, so the rotation never takes it again.
PROOF_TAKEN = (
    sessions.update()
    .where(
        sessions.c.jkt == _p("jkt"),
        sa.or_(sessions.c.last_proof_iat.is_(None), sessions.c.last_proof_iat < _p("iat")),
    )
    .values(**_TAKE_PROOF)
)


class Compiled:
    """Every statement above, compiled once for the driver's dialect."""

    def __init__(self, driver: Driver) -> None:
        def c(statement: sa.ClauseElement) -> Statement:
            return compile_statement(statement, driver.dialect)

        self.rotate_with_proof = c(ROTATE_WITH_PROOF)
        self.rotate = c(ROTATE)
        self.get = c(GET)
        self.list_page = c(LIST_PAGE)
        self.list_count = c(LIST_COUNT)
        self.lock_key = c(LOCK_KEY)
        self.proof_seen = c(PROOF_SEEN)
        self.proof_taken = c(PROOF_TAKEN)
