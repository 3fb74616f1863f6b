"""The hot-path statements of the session store (DESIGN §5), as SQLAlchemy Core: the
refresh's rotations, the refresh proof checks, reading one session and listing a user's.
:class:`Compiled` compiles each once for the database driver (:mod:`sessile.store.drivers`)
that runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sessile.store.drivers import Driver, Statement
from sessile.store.drivers.base import compile_statement
from sessile.store.schema import Time, sessions
from sessile.store.session_rows import Rotation, SessionRow

__all__ = [
    "BATCH_COLUMNS",
    "GET",
    "LIST_COUNT",
    "LIST_PAGE",
    "LOCK_KEY",
    "PROOF_SEEN",
    "PROOF_TAKEN",
    "RETURNED",
    "ROTATE",
    "ROTATED",
    "ROTATE_BATCH",
    "ROTATE_WITH_PROOF",
    "Compiled",
    "batch_parameter",
    "live_condition",
]


#: What the statements that read or rotate a session return, named from SessionRow:
#: a column added to both is returned by all of them.
RETURNED = tuple(sessions.c[f.name] for f in fields(SessionRow))
#: What a rotation returns, named from Rotation.
ROTATED = tuple(sessions.c[f.name] for f in fields(Rotation))


def _p(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name)


#: Where a rotation's values come from: bind parameters of one statement, or the
#: columns of a batch's rows.
_Values = Callable[[str], sa.ColumnElement[Any]]


def live_condition(v: _Values = _p) -> sa.ColumnElement[bool]:
    """A session is live: not revoked, not past its end, not idle (binds ``now`` and
    ``idle_since``)."""
    return sa.and_(
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > v("now"),
        sessions.c.last_seen_at > v("idle_since"),
    )


def _rotation(v: _Values, *conditions: sa.ColumnElement[bool], **values: Any) -> sa.Update:
    """Rotate a live session whose current token and key these are; return what its new
    tokens need of it."""
    return (
        sessions.update()
        .where(
            sessions.c.id == v("id"),
            sessions.c.generation == v("generation"),
            sessions.c.refresh_hash == v("hash"),
            sessions.c.jkt == v("jkt"),
            live_condition(v),
            *conditions,
        )
        .values(
            generation=v("next_generation"),
            previous_hash=v("hash"),
            refresh_hash=v("new_hash"),
            rotated_at=v("now"),
            last_seen_at=v("now"),
            **values,
        )
        .returning(*ROTATED)
    )


def _take_proof(v: _Values) -> dict[str, Any]:
    """A proof becomes a session's newest; the newest before it is kept too."""
    return {
        "prev_proof_iat": sessions.c.last_proof_iat,
        "prev_proof_jti": sessions.c.last_proof_jti,
        "last_proof_iat": v("iat"),
        "last_proof_jti": v("jti"),
    }


def _key_rows(*keys: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The rows of the keys, locked in one order (PostgreSQL; SQLite has one writer at a
    time): a statement that reads the keys' proofs after this waits for any rotation of
    them still in flight, and reads what it wrote. Without the lock, two rotations of
    two sessions of one key could each take the same proof, neither seeing the other."""
    columns = (sessions.c.id, sessions.c.jkt, sessions.c.last_proof_iat)
    return sa.select(*columns).where(*keys).order_by(sessions.c.id).with_for_update()


def _rotation_with_proof(
    v: _Values, key_rows: sa.CTE, *of_key: sa.ColumnElement[bool]
) -> sa.Update:
    """The common refresh: the proof must be newer than every refresh proof its key's
    sessions took, and becomes this session's newest. One write carries the rotation and
    the proof's replay check (DESIGN §3.7, §11). ``of_key`` picks the row's key's rows
    out of ``key_rows`` when it holds several keys."""
    newer = sa.exists().where(key_rows.c.last_proof_iat >= v("iat"), *of_key)
    return _rotation(v, ~newer, **_take_proof(v))


LOCK_KEY = _key_rows(sessions.c.jkt == _p("jkt"))
ROTATE_WITH_PROOF = _rotation_with_proof(_p, LOCK_KEY.cte("key_rows"))

#: What each row of a batch of rotations carries: ROTATE_WITH_PROOF's parameters.
BATCH_COLUMNS = {
    "id": sa.String, "generation": sa.Integer, "next_generation": sa.Integer,
    "hash": sa.String, "new_hash": sa.String, "jkt": sa.String, "now": Time,
    "idle_since": Time, "iat": Time, "jti": sa.String,
}  # fmt: skip


def batch_parameter(name: str) -> str:
    """The array parameter of a batch that carries each row's ``name``."""
    return name + "_batch"


def _batch() -> sa.TableValuedAlias:
    arrays: list[sa.BindParameter[Any]] = [
        sa.bindparam(batch_parameter(name), type_=postgresql.ARRAY(kind))
        for name, kind in BATCH_COLUMNS.items()
    ]
    columns: list[sa.ColumnClause[Any]] = [
        sa.column(name, kind) for name, kind in BATCH_COLUMNS.items()
    ]
    return (
        sa.func.unnest(*arrays)
        .table_valued(*columns, with_ordinality="n")
        .render_derived(name="batch")
    )


_rows_of_batch = _batch()
_keys_of_batch = _key_rows(sessions.c.jkt == sa.any_(sa.bindparam(batch_parameter("jkt"))))
_batch_key_rows = _keys_of_batch.cte("key_rows")
# Many common refreshes in one statement (PostgreSQL: one commit for them all), each row
# checked as ROTATE_WITH_PROOF checks it alone; the rows' keys are distinct. Returns
# ROTATED and the row's place in the batch, from 1.
ROTATE_BATCH = (
    _rotation_with_proof(
        lambda name: _rows_of_batch.c[name],
        _batch_key_rows,
        _batch_key_rows.c.jkt == _rows_of_batch.c.jkt,
    )
    # Indexable whatever the planner thinks of the sizes (a table not analysed yet).
    .where(sessions.c.id == sa.any_(sa.bindparam(batch_parameter("id"))))
    .returning(_rows_of_batch.c.n)
)
# The slow path's rotation, once the proof went through the replay store.
ROTATE = _rotation(_p)
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
    .values(**_take_proof(_p))
)


class Compiled:
    """Every statement above, compiled once for the driver's dialect."""

    def __init__(self, driver: Driver) -> None:
        def c(statement: sa.ClauseElement) -> Statement:
            return compile_statement(statement, driver.dialect)

        self.rotate_with_proof = c(ROTATE_WITH_PROOF)
        # SQLite has no arrays, and gains nothing from batches: one writer at a time.
        self.rotate_batch = c(ROTATE_BATCH) if driver.dialect.name == "postgresql" else None
        self.rotate = c(ROTATE)
        self.get = c(GET)
        self.list_page = c(LIST_PAGE)
        self.list_count = c(LIST_COUNT)
        self.lock_key = c(LOCK_KEY)
        self.proof_seen = c(PROOF_SEEN)
        self.proof_taken = c(PROOF_TAKEN)
