"""What every driver offers, and statements compiled once per dialect.

A transaction is written once, as a generator of :class:`Step` values: each
step names a statement and its parameters, and receives its result. The SQLite
driver runs the generator synchronously, the PostgreSQL driver with ``await``
inside a transaction, so neither dialect gets a second copy of the logic.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["Driver", "Many", "One", "Row", "Statement", "Step", "Steps", "compile_statement"]

T = TypeVar("T")
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Statement:
    """A statement's SQL for one dialect and its bind names in positional order."""

    sql: str
    names: tuple[str, ...]

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple([params[name] for name in self.names])


def compile_statement(statement: sa.ClauseElement, dialect: Dialect) -> Statement:
    """Compile ``statement`` for ``dialect``; every bind parameter must be named by the caller."""
    compiled = statement.compile(dialect=dialect)
    names = tuple(getattr(compiled, "positiontup", None) or ())
    defaults = {name: value for name, value in compiled.params.items() if value is not None}
    if defaults:
        raise ValueError(f"statement binds literal values {sorted(defaults)}: name them")
    return Statement(compiled.string, names)


@dataclass(frozen=True)
class One:
    """Run a statement; the step receives its rows (all of them, so the statement ends)."""

    statement: Statement
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Many:
    """Run a statement once per parameter set; the step receives None."""

    statement: Statement
    params: Sequence[Mapping[str, Any]]


Step = One | Many
#: A transaction's logic: yields steps, receives each one's rows, returns its result.
Steps = Generator[Step, list[Row] | None, T]


class Driver(Protocol):
    """Runs compiled statements. Errors reaching the database raise
    :class:`~sessile.errors.ServiceUnavailable`."""

    dialect: Dialect

    async def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """Run one statement on its own (autocommit) and return every row it gives."""
        ...

    async def transaction(self, steps: Steps[T]) -> T:
        """Run ``steps`` in one transaction (the write lock taken up front on SQLite)."""
        ...

    async def close(self) -> None: ...
