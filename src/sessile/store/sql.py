"""Every request's statements on the database drivers (DESIGN §8, §11).

A store writes each statement once, in SQLAlchemy Core with named bind parameters, as a
:class:`prepared` attribute: compiled for the store's dialect the first time it is used,
then shared by every store of that dialect. A statement whose shape depends on its
arguments (an ``IN`` list's length, the filters a listing was given) is compiled once
per shape by :func:`shaped`.

Statements that belong together run as one transaction, a generator of steps
(:mod:`sessile.store.drivers`): :func:`fetch` is the step that runs one statement and
reads its rows as mappings, :func:`each` the step that runs one statement per parameter
set. A step helper other stores share takes the dialect, and compiles its statements
with :meth:`prepared.on`.

A transaction's steps run without a pause on SQLite (nothing else on the loop runs
between them), so they can't wait for anything but their statements: what a
transaction needs from elsewhere is read before it starts.

The SQLAlchemy engine stays for migrations and the command line.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Generator, Hashable, Mapping, Sequence
from typing import Any, TypeVar, overload

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sessile.store.drivers import Driver, Many, One, Row, Statement, Step, Steps
from sessile.store.drivers.base import compile_statement

__all__ = [
    "Record",
    "Store",
    "bound",
    "each",
    "fetch",
    "names",
    "numbered",
    "prepared",
    "shaped",
]

T = TypeVar("T")
Record = dict[str, Any]
Build = Callable[[], sa.ClauseElement]


def _compile(name: str, build: Build, dialect: Dialect) -> Statement:
    try:
        return compile_statement(build(), dialect, typed=True)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc


class prepared:
    """A statement: ``build`` returns it in SQLAlchemy Core, every value a named
    ``bindparam``. Read as a store's attribute it is compiled for the store's dialect;
    :meth:`on` compiles it for any dialect."""

    def __init__(self, build: Build) -> None:
        self._build = build
        self._compiled: dict[str, Statement] = {}
        self._name = getattr(build, "__qualname__", repr(build))

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = f"{owner.__name__}.{name}"

    def on(self, dialect: Dialect) -> Statement:
        statement = self._compiled.get(dialect.name)
        if statement is None:
            statement = self._compiled[dialect.name] = _compile(self._name, self._build, dialect)
        return statement

    @overload
    def __get__(self, store: None, owner: type) -> prepared: ...

    @overload
    def __get__(self, store: Store, owner: type) -> Statement: ...

    def __get__(self, store: Store | None, owner: type) -> prepared | Statement:
        return self if store is None else self.on(store.dialect)


#: The statements :func:`shaped` compiled, most recently used last.
_SHAPED: OrderedDict[tuple[str, Hashable], Statement] = OrderedDict()
_SHAPES_KEPT = 512


def shaped(dialect: Dialect, shape: Hashable, build: Build) -> Statement:
    """The statement ``build`` makes for ``shape`` (a key naming everything ``build``
    varies on, its own name first), compiled once per dialect and shape; the least
    recently used of many shapes are compiled again when next asked for."""
    key = (dialect.name, shape)
    statement = _SHAPED.get(key)
    if statement is None:
        statement = _SHAPED[key] = _compile(repr(shape), build, dialect)
        if len(_SHAPED) > _SHAPES_KEPT:
            _SHAPED.popitem(last=False)
    else:
        _SHAPED.move_to_end(key)
    return statement


def bound(*columns: str) -> dict[str, sa.BindParameter[Any]]:
    """Each column bound to a parameter of its own name: the values of an ``INSERT`` or an
    ``UPDATE`` that writes what its parameters say."""
    return {column: sa.bindparam(column) for column in columns}


def names(prefix: str, count: int) -> list[sa.BindParameter[Any]]:
    """``count`` bind parameters ``prefix0``, ``prefix1``…, for an ``IN`` list of a
    :func:`shaped` statement."""
    return [sa.bindparam(f"{prefix}{i}") for i in range(count)]


def numbered(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters that fill :func:`names`' bind parameters with ``values``."""
    return {f"{prefix}{i}": value for i, value in enumerate(values)}


def fetch(statement: Statement, **params: Any) -> Generator[Step, list[Row] | None, list[Record]]:
    """The step that runs ``statement`` in a transaction; its rows as records."""
    rows = yield One(statement, params)
    assert rows is not None
    return statement.records(rows)


def each(
    statement: Statement, params: Sequence[Mapping[str, Any]]
) -> Generator[Step, list[Row] | None, None]:
    """The step that runs ``statement`` once per parameter set (none: no step)."""
    if params:
        yield Many(statement, params)


class Store:
    """What every store on the driver does: one statement on its own, or a transaction."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.dialect: Dialect = driver.dialect

    async def _records(self, statement: Statement, **params: Any) -> list[Record]:
        return statement.records(await self.driver.rows(statement, params))

    async def _record(self, statement: Statement, **params: Any) -> Record | None:
        records = await self._records(statement, **params)
        return records[0] if records else None

    async def _changed(self, statement: Statement, **params: Any) -> int:
        """How many rows a statement returned: a conditional write ``RETURNING`` a column
        tells how many rows it changed."""
        return len(await self.driver.rows(statement, params))

    async def transaction(self, steps: Steps[T]) -> T:
        return await self.driver.transaction(steps)
