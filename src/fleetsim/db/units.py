"""Units of work: `transaction` runs one in a transaction of its own, on a pooled
connection, committed when it ends and rolled back when it raises; `run_together` runs many
in one transaction, each in its savepoint (`Tx.savepoint`), as the group commit of
`fleetsim.http.commit` does."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from fleetsim.db.connections import checkin, checkout
from fleetsim.db.dialect import (
    IN_TRANSACTION,
    begin_read,
    begin_write,
    end_statements,
    end_writer_turn,
    is_sqlite,
)
from fleetsim.db.store import Tx

__all__ = ["Outcome", "WriterBusy", "run_together", "transaction"]


class WriterBusy(Exception):
    """Another writer holds the database, and the transaction was not to wait for it."""


@contextmanager
def transaction(
    engine: Engine,
    *,
    write: bool,
    wait: bool = True,
    thread_connection: bool = False,
    turn_taken: bool = False,
) -> Iterator[Tx]:
    """A transaction on a pooled connection, committed when the block ends and rolled
    back when it raises. A write on SQLite begins holding the database's write lock, at
    once or (`wait` False) not at all: `WriterBusy`; `turn_taken` as for `begin_write`.
    With `thread_connection`, on the calling thread's own connection
    (`fleetsim.db.connections`) rather than the pool's."""
    try:
        connection = checkout(engine, thread_connection)
    except BaseException:
        if turn_taken:
            end_writer_turn(engine)
        raise
    try:
        if write:
            if not begin_write(engine, connection, wait=wait, turn_taken=turn_taken):
                raise WriterBusy()
        else:
            begin_read(engine, connection)
        connection.info[IN_TRANSACTION] = True
        tx = Tx(engine, connection, read_only=not write, in_block=is_sqlite(engine))
        try:
            yield tx
            tx.commit()
        except BaseException:
            tx.rollback()
            raise
        finally:
            tx.close()
    finally:
        connection.info.pop(IN_TRANSACTION, None)
        try:
            end_statements(engine, connection)
        finally:
            checkin(engine, connection)


@dataclass(frozen=True)
class Outcome:
    """What one unit of work of `run_together` gave: its value, or the error it raised."""

    value: Any = None
    error: BaseException | None = None


def run_together(
    engine: Engine,
    works: Sequence[Callable[[Tx], Any]],
    *,
    wait: bool,
    thread_connection: bool = False,
    turn_taken: bool = False,
) -> list[Outcome]:
    """Run `works` in one write transaction, each in its savepoint: a unit that raises
    leaves nothing and costs the others nothing. Without `wait`, `WriterBusy` when the
    database cannot be written at once. `thread_connection` and `turn_taken` as for
    `transaction`."""
    outcomes: list[Outcome] = []
    options = {"thread_connection": thread_connection, "turn_taken": turn_taken}
    with transaction(engine, write=True, wait=wait, **options) as tx:
        # Not a list comprehension: its frame, the caller of `_outcome` that an error's
        # traceback reaches, would hold the list that holds the error.
        outcomes.extend(_outcome(tx, work) for work in works)
    return outcomes


def _outcome(tx: Tx, work: Callable[[Tx], Any]) -> Outcome:
    """What `work` gives in a savepoint of `tx`. Caught here, where no variable holds the
    outcome: the error's traceback holds this frame, and a frame holding the error would
    make a cycle that only the garbage collector frees."""
    try:
        with tx.savepoint():  # which may raise as the unit ends (`Tx.insert`'s last)
            return Outcome(value=work(tx))
    except Exception as error:  # the unit's own answer; the others go on
        return Outcome(error=error)
