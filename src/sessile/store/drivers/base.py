"""What every driver offers, and statements compiled once per dialect.

A transaction is written once, as a generator of :class:`Step` values: each
step names a statement and its parameters, and receives its result. The SQLite
driver runs the generator synchronously, the PostgreSQL driver with ``await``
inside a transaction, so neither dialect gets a second copy of the logic.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = [
    "Driver",
    "IntegrityViolation",
    "Many",
    "One",
    "Row",
    "Statement",
    "Step",
    "Steps",
    "compile_statement",
]

T = TypeVar("T")
Row = tuple[Any, ...]


Convert = Callable[[Any], Any]


class IntegrityViolation(Exception):
    """A statement broke a constraint (a unique key, a foreign key): the transaction was
    rolled back. ``detail`` names the constraint as the database put it."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Statement:
    """A statement's SQL for one dialect and its bind names in positional order.

    A *typed* statement also converts what it binds and reads the way SQLAlchemy's types
    do for the dialect (JSON, booleans on SQLite), binds the constants written into it
    (``.values(attempts=0)``), and names the columns it returns. The hot statements are
    untyped: their values need no conversion, and every one is named.
    """

    sql: str
    names: tuple[str, ...]
    #: Per bind name, its conversion (None: as is); None when no name has one.
    converters: tuple[Convert | None, ...] | None = None
    #: The values the statement itself binds, by bind name.
    constants: Mapping[str, Any] | None = None
    #: The names of the columns the statement returns.
    keys: tuple[str, ...] = ()
    #: Per returned column, its conversion; None when no column has one.
    readers: tuple[Convert | None, ...] | None = None

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        if self.converters is None and self.constants is None:
            return tuple([params[name] for name in self.names])
        constants = self.constants or {}
        converters = self.converters or (None,) * len(self.names)
        values = []
        for name, convert in zip(self.names, converters, strict=True):
            value = constants[name] if name in constants else params[name]
            values.append(value if convert is None else convert(value))
        return tuple(values)

    def records(self, rows: Sequence[Row]) -> list[dict[str, Any]]:
        """``rows`` as mappings of the returned column names, read as their types say."""
        if self.readers is None:
            return [dict(zip(self.keys, row, strict=True)) for row in rows]
        return [
            {
                key: value if read is None else read(value)
                for key, value, read in zip(self.keys, row, self.readers, strict=True)
            }
            for row in rows
        ]


def compile_statement(
    statement: sa.ClauseElement, dialect: Dialect, *, typed: bool = False
) -> Statement:
    """Compile ``statement`` for ``dialect``. Untyped, every bind parameter must be named
    by the caller; ``typed``, constants are bound too, and values converted as the
    columns' types say (see :class:`Statement`)."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = tuple(compiled.positiontup or ())
    constants = {
        name: bind.value
        for name, bind in compiled.binds.items()
        if name in names and not bind.required
    }
    if not typed:
        literal = sorted(name for name, value in constants.items() if value is not None)
        if literal:
            raise ValueError(f"statement binds literal values {literal}: name them")
        return Statement(compiled.string, names)
    # SQLAlchemy's per-dialect conversions of each bind parameter and result column.
    sql = compiled
    converters = tuple(cast(Convert | None, sql._bind_processors.get(name)) for name in names)
    columns = sql._result_columns or []
    keys = tuple(column[0] for column in columns)
    readers = tuple(_reader(column[3], dialect) for column in columns)
    return Statement(
        compiled.string,
        names,
        converters if any(converters) else None,
        constants or None,
        keys,
        readers if any(readers) else None,
    )


def _reader(column_type: sa.types.TypeEngine[Any], dialect: Dialect) -> Convert | None:
    """What SQLAlchemy does to a value of ``column_type`` read from ``dialect``'s driver.
    Some processors choose by the driver's type code, which a compiled statement doesn't
    know: those types (asyncpg's numbers) come from the driver as Python wants them."""
    try:
        return cast(Convert | None, column_type._cached_result_processor(dialect, None))
    except (TypeError, sa.exc.InvalidRequestError):
        return None


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

    def connections_in_use(self) -> int:
        """How many of its connections run a statement or a transaction now."""
        ...

    def lock_held(self, key: int) -> AbstractAsyncContextManager[bool]:
        """Try for the advisory lock ``key`` across processes for the block: True to the one
        that holds it. PostgreSQL holds it on a connection of its own, released at the
        block's end or by the server when that connection dies; SQLite, one machine's
        database, has no such lock, and every caller gets True."""
        ...

    async def close(self) -> None: ...
