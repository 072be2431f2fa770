"""Plain SQL on a pooled DBAPI connection, for the few reads that every client makes most.

Reading the credentials' account and a Sim took about 600 µs through the ORM (a session,
ORM statements and instances, a commit), 143 µs through SQLAlchemy Core, and 33 µs on the
DBAPI cursor of a pooled connection, checkout included (timed in-process, 5,000 times, on
the 2-core machine). Only reads use it: every write keeps the unit of work, its locks and
its side-effect rows.

Statements are written with `?` placeholders and run unchanged on SQLite; for psycopg each
is rewritten once to `%s`. Rows are plain tuples in the order of the SELECT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine

from fleetsim.db.dialect import is_sqlite

__all__ = ["DirectReads", "direct_reads", "stored_datetime"]

Row = tuple[Any, ...]


class DirectReads:
    """SELECTs on one borrowed DBAPI connection."""

    def __init__(self, cursor: Any, *, sqlite: bool) -> None:
        self._cursor = cursor
        self._sqlite = sqlite

    def one(self, sql: str, params: tuple[Any, ...]) -> Row | None:
        """The first row of `sql`, or None."""
        row = self._execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        """Every row of `sql`."""
        return [tuple(row) for row in self._execute(sql, params).fetchall()]

    def _execute(self, sql: str, params: tuple[Any, ...]) -> Any:
        self._cursor.execute(sql if self._sqlite else _pyformat(sql), params)
        return self._cursor


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


def stored_datetime(value: dt.datetime | str) -> dt.datetime:
    """A `UTCDateTime` column as read without SQLAlchemy: SQLite returns the stored text,
    PostgreSQL a naive datetime; both are UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)


@lru_cache(maxsize=64)
def _pyformat(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")
