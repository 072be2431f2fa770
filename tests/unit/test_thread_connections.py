"""The connections a thread keeps for its units of work (`db.units.transaction` with
`thread_connection`), on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from fleetsim.db import liveness, store
from fleetsim.db.dialect import is_sqlite
from fleetsim.db.tables import Job
from fleetsim.db.units import transaction

pytestmark = pytest.mark.usefixtures("engine")

JOB = {"kind": "test.noop", "payload": "{}", "state": "pending", "max_attempts": 5}


def test_a_thread_reuses_its_connection_outside_the_pool(engine: Engine) -> None:
    with transaction(engine, write=False, thread_connection=True) as tx:
        first = tx._connection
    with transaction(engine, write=False, thread_connection=True) as tx:
        assert tx._connection is first
        assert engine.pool.checkedout() == 0


def test_a_read_cannot_write(engine: Engine) -> None:
    with transaction(engine, write=True) as tx:
        tx.insert(Job, {**JOB, "created_at": store.stored_datetime("2026-01-15 12:00:00")})
    with (
        pytest.raises(RuntimeError, match="begun to read tried to write"),
        transaction(engine, write=False, thread_connection=True) as tx,
    ):
        tx.execute("DELETE FROM jobs")
    with transaction(engine, write=False, thread_connection=True) as tx:
        assert tx.one("SELECT count(*) FROM jobs") == (1,)


def test_a_read_may_use_the_orm(engine: Engine) -> None:
    with transaction(engine, write=False, thread_connection=True) as tx:
        assert tx.session.execute(text("SELECT count(*) FROM jobs")).scalar_one() == 0
    with transaction(engine, write=False, thread_connection=True) as tx:
        assert tx.one("SELECT count(*) FROM jobs") == (0,)


def test_a_connection_the_server_dropped_is_replaced(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: a server that ends connections")
    monkeypatch.setattr(liveness, "IDLE_BEFORE_PING", 0.0)
    with transaction(engine, write=False, thread_connection=True) as tx:
        (pid,) = tx.one("SELECT pg_backend_pid()") or (None,)
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with transaction(engine, write=False, thread_connection=True) as tx:
        (other,) = tx.one("SELECT pg_backend_pid()") or (None,)
    assert other != pid
