"""Where a request's unit of work runs, and group commit.

On SQLite a read runs on the event loop: under WAL it never waits for a lock, and it is
all CPU under the GIL, so a thread would only add the hand-off. Writes that are ready on
the loop at the same moment share one transaction, each in a savepoint of its own, and are
answered after the one COMMIT: a unit that raises leaves nothing and costs the others
nothing. When another writer of the process (the job worker) holds the database, the
group waits for its turn (`db.turns.TurnLock`) without blocking the loop, taking in the
units that keep arriving, and commits on the loop when the turn comes: in a thread, the
units would fight the loop for the GIL. Only a writer of another process (SQLite's own
lock) is waited for in a thread.

On PostgreSQL every unit of work runs in its own transaction, on the loop, through asyncpg
(`db.dialect.loop_engine`): the work is plain synchronous code, run in a greenlet that
hands each round trip's wait to the loop (`db.greenlets`), so a round trip never holds
the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from fleetsim.db.dialect import end_writer_turn, is_sqlite, loop_engine, take_writer_turn
from fleetsim.db.greenlets import in_greenlet
from fleetsim.db.store import Tx
from fleetsim.db.units import Outcome, WriterBusy, run_together, transaction

__all__ = ["Work", "run_unit"]

T = TypeVar("T")
Work = Callable[[Tx], T]


async def run_unit(engine: Engine, work: Work[T], *, write: bool) -> T:
    """The result of `work` in a transaction of its own, or shared with the writes ready
    together (SQLite)."""
    if not is_sqlite(engine):
        on_the_loop: T = await in_greenlet(_alone, loop_engine(engine), work, write)
        return on_the_loop
    if not write:
        return _alone(engine, work, write=False, own_connection=True)
    result: T = await _group(engine).run(work)
    return result


def _alone(engine: Engine, work: Work[T], write: bool, own_connection: bool = False) -> T:
    with transaction(engine, write=write, thread_connection=own_connection) as tx:
        return work(tx)


@dataclass(frozen=True)
class _Waiting:
    work: Work[Any]
    result: asyncio.Future[Any]


# Writes a group stops waiting for: one commit answers them all, so the first waits for
# the last.
_LARGEST_GROUP = 64


class _Group:
    """The SQLite writes of one event loop and engine, committed together."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._waiting: list[_Waiting] = []
        self._turn_asked = False  # for `_waiting`, which keeps growing until it comes
        self._seen = 0  # units waiting when `_commit` last looked
        self._behind_a_writer: set[asyncio.Task[None]] = set()

    async def run(self, work: Work[Any]) -> Any:
        loop = asyncio.get_running_loop()
        if not self._waiting and not self._turn_asked:
            loop.call_soon(self._commit)
        result = loop.create_future()
        self._waiting.append(_Waiting(work, result))
        try:
            return await result
        finally:
            # An error raised here keeps this frame in its traceback, and the future
            # keeps the error: without the future, no cycle for the collector to free.
            del result

    def _commit(self) -> None:
        """Commit the writes waiting, now if this process's turn to write is free, else
        when it comes (after the job worker's batch, say): the loop goes on meanwhile.

        While writes keep arriving, the commit waits one more turn of the loop, which
        reads the sockets in between: the clients answered by one commit send their next
        requests together, so a group that stays small would keep paying a commit for
        each few writes."""
        loop = asyncio.get_running_loop()
        count = len(self._waiting)
        if count != self._seen and count < _LARGEST_GROUP:
            self._seen = count
            loop.call_soon(self._commit)
            return
        self._seen = 0

        def given() -> None:  # called by the thread whose turn ends
            try:
                loop.call_soon_threadsafe(self._commit_in_turn)
            except RuntimeError:  # the loop has closed: nobody to take the turn
                end_writer_turn(self._engine)

        if take_writer_turn(self._engine, given):
            self._commit_in_turn()
        else:
            self._turn_asked = True

    def _commit_in_turn(self) -> None:
        self._turn_asked = False
        waiting, self._waiting = self._waiting, []
        works = [w.work for w in waiting]
        try:
            outcomes = run_together(
                self._engine, works, wait=False, thread_connection=True, turn_taken=True
            )
        except WriterBusy:  # another process holds the database: wait for it in a thread
            task = asyncio.get_running_loop().create_task(self._commit_after_the_writer(waiting))
            self._behind_a_writer.add(task)  # held until done: the loop keeps only weak refs
            task.add_done_callback(self._behind_a_writer.discard)
            return
        except Exception as error:  # the commit itself failed: so did every unit
            outcomes = [Outcome(error=error)] * len(waiting)
        _settle(waiting, outcomes)

    async def _commit_after_the_writer(self, waiting: list[_Waiting]) -> None:
        works = [w.work for w in waiting]
        try:
            outcomes = await run_in_threadpool(run_together, self._engine, works, wait=True)
        except Exception as error:
            outcomes = [Outcome(error=error)] * len(waiting)
        _settle(waiting, outcomes)


def _settle(waiting: list[_Waiting], outcomes: list[Outcome]) -> None:
    for each, outcome in zip(waiting, outcomes, strict=True):
        if each.result.done():  # its client went away
            continue
        if outcome.error is not None:
            each.result.set_exception(outcome.error)
        else:
            each.result.set_result(outcome.value)


_GROUPS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Engine, _Group]
] = weakref.WeakKeyDictionary()


def _group(engine: Engine) -> _Group:
    loop = asyncio.get_running_loop()
    groups = _GROUPS.get(loop)
    if groups is None:
        groups = _GROUPS[loop] = weakref.WeakKeyDictionary()
    group = groups.get(engine)
    if group is None:
        group = groups[engine] = _Group(engine)
    return group
