"""SQLite writers of one process take turns on a lock (`db.dialect`): every unit of work
that writes gets its turn, and one that fails hands the turn on."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fleetsim.db.dialect import create_database_engine
from fleetsim.db.tables import Job
from fleetsim.db.units import transaction
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.jobs import schedule

NOW = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)


@pytest.fixture
def url(tmp_path: Path, sqlite_template: Path) -> str:
    shutil.copyfile(sqlite_template, tmp_path / "writers.db")
    return f"sqlite:///{tmp_path / 'writers.db'}"


def test_concurrent_writers_all_commit(url: str) -> None:
    engine = create_database_engine(url)

    def write(n: int) -> None:
        with unit_of_work(engine, write=True) as session:
            schedule(session, "test.noop", {"n": n}, due_at=None, now=NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(200)))
    with unit_of_work(engine, write=False) as session:
        assert session.execute(select(func.count()).select_from(Job)).scalar_one() == 200
    engine.dispose()


def test_a_failed_writer_hands_the_turn_on(url: str) -> None:
    engine = create_database_engine(url)

    def fail() -> None:
        with unit_of_work(engine, write=True) as session:
            schedule(session, "test.rolled_back", {}, due_at=None, now=NOW)
            session.flush()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        fail()
    done = threading.Event()

    def write() -> None:
        with unit_of_work(engine, write=True) as session:
            schedule(session, "test.noop", {}, due_at=None, now=NOW)
        done.set()

    # Another thread, so that a lock left held would block it (until its 30 s timeout).
    writer = threading.Thread(target=write)
    writer.start()
    assert done.wait(timeout=10), "the failed unit of work kept the write turn"
    writer.join()
    with unit_of_work(engine, write=False) as session:
        kinds = session.execute(select(Job.kind)).scalars().all()
        assert kinds == ["test.noop"]
    engine.dispose()


def test_a_thread_keeps_its_own_connection_out_of_the_pool(url: str) -> None:
    engine = create_database_engine(url)
    with transaction(engine, write=False, thread_connection=True) as tx:
        first = tx._connection
        assert engine.pool.checkedout() == 0
        # A unit of work that opens another meanwhile gets a pooled connection.
        with transaction(engine, write=False, thread_connection=True) as inner:
            assert inner._connection is not first
            assert engine.pool.checkedout() == 1
    with transaction(engine, write=True, thread_connection=True) as tx:
        assert tx._connection is first
        job = {"kind": "test.noop", "payload": "{}", "state": "pending", "max_attempts": 5}
        tx.insert(Job, {**job, "created_at": NOW})
    assert engine.pool.checkedout() == 0
    engine.dispose()
    assert first.dbapi_connection is None  # closed with the engine


def test_a_failed_write_on_a_thread_connection_hands_the_turn_on(url: str) -> None:
    engine = create_database_engine(url)

    def fail() -> None:
        with transaction(engine, write=True, thread_connection=True) as tx:
            tx.execute("DELETE FROM jobs")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        fail()
    # The writer lock was released: a write that must not wait still begins.
    with transaction(engine, write=True, wait=False, thread_connection=True) as tx:
        assert tx.one("SELECT count(*) FROM jobs") == (0,)
    # And another thread's writer gets its turn at once.

    def write_at_once() -> None:
        with transaction(engine, write=True, wait=False) as tx:
            tx.execute("DELETE FROM jobs")

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(write_at_once).result()
    engine.dispose()
