"""Plain SQL on a pooled DBAPI connection, for the few requests that clients make most.

Reading the credentials' account and a Sim took about 600 µs through the ORM (a session,
ORM statements and instances, a commit), 143 µs through SQLAlchemy Core, and 33 µs on the
DBAPI cursor of a pooled connection, checkout included (timed in-process, 5,000 times, on
the 2-core machine).

A few writes are made this way too (`direct_writes`): the values of their rows come from
the same functions the services build their ORM instances from, and are inserted column by
column with the bind processors SQLAlchemy would use, so what is stored is the same. A
direct write begins only when the database can be written at once (`begin_write`), unless
told to wait; on any constraint violation it raises and rolls back, and the request goes
to the full handler.

Statements are written with `?` placeholders and run unchanged on SQLite; for psycopg each
is rewritten once to `%s`. Rows are plain tuples in the order of the SELECT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.instrumentation import manager_of_class

from fleetsim.core.sids import Prefix, canonical_sid, is_sid
from fleetsim.db.dialect import begin_write, is_sqlite
from fleetsim.db.tables import Base

__all__ = [
    "DirectConflict",
    "DirectReads",
    "DirectWrites",
    "WriterBusy",
    "detached",
    "direct_reads",
    "direct_writes",
    "stored_datetime",
]

Row = tuple[Any, ...]
M = TypeVar("M", bound=Base)


class DirectReads:
    """SELECTs on one borrowed DBAPI connection."""

    def __init__(self, cursor: Any, *, sqlite: bool) -> None:
        self._cursor = cursor
        self._sqlite = sqlite
        self._read: dict[tuple[str, tuple[Any, ...]], Row | None] = {}

    def one(self, sql: str, params: tuple[Any, ...]) -> Row | None:
        """The first row of `sql`, or None."""
        row = self._execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    def settled(self, sql: str, params: tuple[Any, ...]) -> Row | None:
        """`one`, read once per transaction: for rows no direct write changes (accounts,
        policies), which the direct writes committed together each read."""
        key = (sql, params)
        if key not in self._read:
            self._read[key] = self.one(sql, params)
        return self._read[key]

    def all(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        """Every row of `sql`."""
        return [tuple(row) for row in self._execute(sql, params).fetchall()]

    def by_ref(
        self,
        source: str,
        columns: str,
        account_id: int,
        ref: str,
        prefix: Prefix,
        *,
        alias: str = "",
    ) -> Row | None:
        """`columns` of the account's row of `source` (a table, or tables joined to the one
        named `alias`) addressed by SID or, failing the SID shape, unique name (as
        `fleetsim.db.scoping.find_by_ref`)."""
        if is_sid(ref, prefix):
            sql = _by_ref_sql(source, columns, alias, "sid")
            return self.one(sql, (account_id, canonical_sid(ref, prefix)))
        return self.one(_by_ref_sql(source, columns, alias, "unique_name"), (account_id, ref))

    def _execute(self, sql: str, params: tuple[Any, ...]) -> Any:
        self._cursor.execute(sql if self._sqlite else _pyformat(sql), params)
        return self._cursor


@lru_cache(maxsize=64)
def _by_ref_sql(source: str, columns: str, alias: str, key: str) -> str:
    # Names from the code, never from a request.
    where = (
        f"{alias}.account_id = ? AND {alias}.{key} = ?"
        if alias
        else f"account_id = ? AND {key} = ?"
    )
    return f"SELECT {columns} FROM {source} WHERE {where}"  # noqa: S608


class WriterBusy(Exception):
    """Another writer holds the database: the full handler, which waits its turn, answers."""


class DirectConflict(Exception):
    """A direct write broke a constraint: the full handler says which, in Twilio's words."""


class DirectWrites(DirectReads):
    """Reads and writes in one transaction on one borrowed DBAPI connection."""

    def __init__(self, cursor: Any, *, dialect: Dialect) -> None:
        super().__init__(cursor, sqlite=dialect.name == "sqlite")
        self._dialect = dialect

    def insert(self, model: type[M], values: Mapping[str, Any]) -> M:
        """Insert a row of `model` holding `values` (by attribute) as a flush of
        `model(**values)` would; the row, with its id, as a `detached` instance."""
        plan = _insert_plan(model, self._dialect)
        params = []
        for key, default, process in plan.columns:
            value = values.get(key)
            if value is None:  # as a flush does: an unset or None attribute takes the default
                value = default
            params.append(value if process is None else process(value))
        (row_id,) = self._execute(plan.sql, tuple(params)).fetchone()
        return detached(model, {**values, "id": row_id})

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """What the block writes stays only if it ends without raising."""
        self._cursor.execute("SAVEPOINT direct_write")
        try:
            yield
        except BaseException:
            self._cursor.execute("ROLLBACK TO SAVEPOINT direct_write")
            self._cursor.execute("RELEASE SAVEPOINT direct_write")
            raise
        self._cursor.execute("RELEASE SAVEPOINT direct_write")

    def update(self, model: type[Base], values: Mapping[str, Any], **where: Any) -> int:
        """Set `values` (by attribute) on the rows of `model` whose attributes equal
        `where`, as a flush would; the number of rows changed."""
        sql, processors = _update_plan(model, tuple(values), tuple(where), self._dialect)
        given = (*values.values(), *where.values())
        params = tuple(v if p is None else p(v) for v, p in zip(given, processors, strict=True))
        return int(self._execute(sql, params).rowcount)

    def _execute(self, sql: str, params: tuple[Any, ...]) -> Any:
        try:
            return super()._execute(sql, params)
        except self._dialect.loaded_dbapi.IntegrityError as exc:
            raise DirectConflict(str(exc)) from exc


def detached(model: type[M], values: Mapping[str, Any]) -> M:
    """An instance of `model` holding `values`, made without the ORM's attribute events,
    as the ORM makes the rows it loads: for rows written directly, and the rows they refer
    to, read only to render them. (21 µs -> 1.8 µs for a Fleet; a quarter of the time of
    a direct SMS Command, which makes three.)"""
    manager = manager_of_class(model)
    if not manager.mapper.configured:  # the attributes need their mappers
        configure_mappers()
    instance: M = manager.new_instance()
    instance.__dict__.update(values)
    return instance


@dataclass(frozen=True)
class _InsertPlan:
    sql: str
    # Attribute, value when unset (the column's scalar default), bind processor.
    columns: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]


@lru_cache(maxsize=32)
def _insert_plan(model: type[Base], dialect: Dialect) -> _InsertPlan:
    mapper = inspect(model)
    columns = []
    for attribute in mapper.column_attrs:
        (column,) = attribute.columns
        if column.primary_key:
            continue
        assert column.server_default is None, f"{column} has a server default"
        default = column.default
        assert default is None or default.is_scalar, f"{column} has a computed default"
        value = default.arg if default is not None else None
        columns.append((attribute.key, value, column.type.bind_processor(dialect)))
    names = ", ".join(mapper.get_property(key).columns[0].name for key, _, _ in columns)
    marks = ", ".join("?" for _ in columns)
    table = model.__tablename__
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id"  # noqa: S608 (mapped names)
    return _InsertPlan(sql, tuple(columns))


@contextmanager
def direct_reads(engine: Engine) -> Iterator[DirectReads]:
    """A pooled connection's cursor for reads; the connection goes back to the pool (and is
    rolled back there) when the block ends."""
    connection = engine.pool.connect()
    try:
        cursor = connection.cursor()
        try:
            yield DirectReads(cursor, sqlite=is_sqlite(engine))
        finally:
            cursor.close()
    finally:
        connection.close()


@lru_cache(maxsize=32)
def _update_plan(
    model: type[Base], keys: tuple[str, ...], where: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[Callable[[Any], Any] | None, ...]]:
    mapper = inspect(model)
    columns = [mapper.get_property(key).columns[0] for key in (*keys, *where)]
    assignments = ", ".join(f"{column.name} = ?" for column in columns[: len(keys)])
    conditions = " AND ".join(f"{column.name} = ?" for column in columns[len(keys) :])
    table = model.__tablename__
    sql = f"UPDATE {table} SET {assignments} WHERE {conditions}"  # noqa: S608 (mapped names)
    return sql, tuple(column.type.bind_processor(dialect) for column in columns)


@contextmanager
def direct_writes(engine: Engine, *, wait: bool = False) -> Iterator[DirectWrites]:
    """A write transaction on a pooled connection, begun only if the database can be
    written at once (`WriterBusy` otherwise), or with `wait` when it can; committed when
    the block ends, rolled back when it raises."""
    connection = engine.pool.connect()
    try:
        if not begin_write(engine, connection, wait=wait):
            raise WriterBusy()
        cursor = connection.cursor()
        try:
            yield DirectWrites(cursor, dialect=engine.dialect)
            connection.commit()
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool, which rolls back what was not committed


def stored_datetime(value: dt.datetime | str) -> dt.datetime:
    """A `UTCDateTime` column as read without SQLAlchemy: SQLite returns the stored text,
    PostgreSQL a naive datetime; both are UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)


@lru_cache(maxsize=64)
def _pyformat(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")
