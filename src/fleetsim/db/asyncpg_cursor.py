"""The cursor a `Tx` runs its statements with on asyncpg (the event loop's units of work).

SQLAlchemy's adapter gives every statement an asyncio lock, a description of its columns,
a deque of its rows and a regular expression over its status, none of which a Tx uses:
this cursor sends the statement SQLAlchemy's adapter would have prepared (its cache, so
the ORM and the Tx share one prepared statement per SQL text) and keeps asyncpg's rows.
The transaction stays the adapter's: it begins the block (or not, in autocommit), commits
and rolls back, and its errors are translated into the DBAPI errors the adapter raises.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import Any

from sqlalchemy.util import await_only

__all__ = ["AsyncpgCursor"]


class AsyncpgCursor:
    """The DBAPI cursor methods a `Tx` calls, on one adapted asyncpg connection."""

    __slots__ = ("_adapted", "_rows", "_status", "_taken")

    def __init__(self, adapted: Any) -> None:
        self._adapted = adapted  # SQLAlchemy's AsyncAdapt_asyncpg_connection
        self._rows: list[Any] = []
        self._status: str | None = None
        self._taken = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._rows, self._status = await_only(self._run(sql, params))
        except Exception as error:
            try:
                self._adapted._handle_exception(error)  # raises the adapter's DBAPI error
            except Exception as translated:
                # The adapter's frame that raised it keeps it in a variable: a cycle, which
                # holds the request's objects until the garbage collector looks.
                traceback.clear_frames(translated.__traceback__)
                raise
        self._taken = 0

    async def _run(self, sql: str, params: Sequence[Any]) -> tuple[list[Any], str | None]:
        adapted = self._adapted
        if adapted._transaction is None and adapted.isolation_level != "autocommit":
            await adapted._start_transaction()  # BEGIN
        # The adapter's own cache of prepared statements, by SQL text.
        cached = adapted._prepared_statement_cache.get(sql)
        if cached is None:
            # 0: no schema change since the connection opened invalidates what it prepared.
            statement, _ = await adapted._prepare(sql, 0)
        else:
            statement = cached[0]
        rows = await statement.fetch(*params)
        return rows, statement.get_statusmsg()

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
        words = (self._status or "").split()
        if len(words) >= 2 and words[0] in {"SELECT", "UPDATE", "DELETE", "INSERT"}:
            return int(words[-1])
        return -1

    def close(self) -> None:
        self._rows = []
