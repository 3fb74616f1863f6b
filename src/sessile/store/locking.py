"""Sessions locked in one order before a statement that changes or deletes several of
them (DESIGN §8).

A batch of rotations locks the rows of many keys, in the order of the sessions' ids
(:mod:`sessile.store.rotation_batches`); a statement that changes several sessions (a
revocation of all of a user's, a user's deletion and its cascade) in another order could
deadlock with it. So such a transaction first locks the sessions it will change, in that
order. SQLite has one writer at a time, and needs no lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sessile.store.drivers import One, Statement, Steps
from sessile.store.schema import sessions

__all__ = ["in_order", "lock_steps"]


def in_order(condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The statement that locks the sessions ``condition`` picks, in the rotations' order;
    for a :func:`~sessile.store.sql.prepared` statement of the caller's."""
    return sa.select(sessions.c.id).where(condition).order_by(sessions.c.id).with_for_update()


def lock_steps(dialect: Dialect, lock: Statement, params: Mapping[str, Any]) -> Steps[None]:
    """The step that runs ``lock`` (made by :func:`in_order`), on PostgreSQL."""
    if dialect.name != "sqlite":
        yield One(lock, params)
