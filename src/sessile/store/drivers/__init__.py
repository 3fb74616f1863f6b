"""Every request's statements on the database drivers themselves (DESIGN §11).

SQLAlchemy Core writes each statement once; :func:`compile_statement` compiles it
for the dialect, and a :class:`Driver` runs it on ``sqlite3`` or on a pool of
``asyncpg`` connections, without the async ORM layer's per-call cost. The schema and
its migrations stay on the SQLAlchemy engine.
"""

from __future__ import annotations

from sessile.store.drivers.base import (
    Driver,
    IntegrityViolation,
    Many,
    One,
    Row,
    Statement,
    Step,
    Steps,
)
from sessile.store.drivers.factory import create_driver

__all__ = [
    "Driver",
    "IntegrityViolation",
    "Many",
    "One",
    "Row",
    "Statement",
    "Step",
    "Steps",
    "create_driver",
]
