"""The cursor a `Tx` runs its statements with on asyncpg (the event loop's units of work).

SQLAlchemy's adapter gives every statement an asyncio lock, a description of its columns,
a deque of its rows and a regular expression over its status, none of which a Tx uses:
this cursor runs the statement SQLAlchemy's adapter would have prepared (its cache, so
the ORM and the Tx share one prepared statement per SQL text) through asyncpg's protocol,
as the statement's `fetch` does, and keeps asyncpg's rows.
The transaction stays the adapter's: it begins the block (or not, in autocommit), commits
and rolls back, and its errors are translated into the DBAPI errors the adapter raises.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from asyncpg.exceptions import OutdatedSchemaCacheError
from sqlalchemy.util import await_only

__all__ = ["AsyncpgCursor"]


class AsyncpgCursor:
    """The DBAPI cursor methods a `Tx` calls, on one adapted asyncpg connection."""

    __slots__ = ("_adapted", "_rows", "_status", "_taken")

    def __init__(self, adapted: Any) -> None:
        self._adapted = adapted  # SQLAlchemy's AsyncAdapt_asyncpg_connection
        self._rows: list[Any] = []
        self._status: bytes | None = None  # the protocol's, e.g. b"INSERT 0 1"
        self._taken = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        adapted = self._adapted
        try:
            if adapted._transaction is None and adapted.isolation_level != "autocommit":
                await_only(adapted._start_transaction())  # BEGIN
            # The adapter's own cache of prepared statements, by SQL text; 0: no schema
            # change since the connection opened invalidates what it prepared.
            cached = adapted._prepared_statement_cache.get(sql)
            statement = await_only(adapted._prepare(sql, 0))[0] if cached is None else cached[0]
            # What `statement.fetch(*params)` runs, awaited without its three coroutines
            # and check around it: every coroutine between the greenlet's driver and the
            # protocol is passed through both ways, each round trip.
            rows, status, _ = await_only(
                adapted._connection._protocol.bind_execute(
                    statement._state, params, "", 0, True, None
                )
            )
        except Exception as error:
            self._fail(error)
        self._rows, self._status, self._taken = rows, status, 0

    def _fail(self, error: Exception) -> NoReturn:
        if isinstance(error, OutdatedSchemaCacheError):  # as `statement.fetch` handles it
            await_only(self._adapted._connection.reload_schema_state())
        try:
            self._adapted._handle_exception(error)  # raises the adapter's DBAPI error
        except Exception as translated:
            # The adapter's frame that raised it keeps it in a variable: a cycle, which
            # holds the request's objects until the garbage collector looks.
            traceback.clear_frames(translated.__traceback__)
            raise
        raise error  # not reached: the adapter raises

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> None:
        cursor = self._adapted.cursor()  # batches are rare on the loop: the adapter's way
        try:
            cursor.executemany(sql, seq_of_params)
        finally:
            cursor.close()
        self._rows, self._status, self._taken = [], None, 0

    def fetchone(self) -> Any:
        if self._taken >= len(self._rows):
            return None
        self._taken += 1
        return self._rows[self._taken - 1]

    def fetchall(self) -> list[Any]:
        rows = self._rows[self._taken :]
        self._taken = len(self._rows)
        return rows

    @property
    def rowcount(self) -> int:
        """The rows the last statement changed or returned, from its status ("UPDATE 3",
        "INSERT 0 1"), as the adapter reads it; -1 when it names none."""
        words = (self._status or b"").split()
        if len(words) >= 2 and words[0] in {b"SELECT", b"UPDATE", b"DELETE", b"INSERT"}:
            return int(words[-1])
        return -1

    def close(self) -> None:
        self._rows = []
