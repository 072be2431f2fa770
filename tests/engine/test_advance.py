"""Advancing the manual clock through due jobs: each runs at its due time, in order,
with the jobs they schedule inside the window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from fleetsim.core.clock import FrozenClock
from fleetsim.db.store import Tx
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.advance import advance_clock
from fleetsim.engine.jobs import next_due_at, schedule
from fleetsim.engine.worker import JobContext, JobHandler, Worker, transactional
from tests.conftest import START
from tests.engine.conftest import add_job, seconds


def recorder(log: list[tuple[str, dt.datetime]]) -> JobHandler:
    def record(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
        log.append((str(payload["name"]), context.clock.now()))

    return transactional(record)


def test_advance_runs_jobs_in_due_order_at_their_due_times(
    engine: Engine,
    clock: FrozenClock,
    make_worker: Callable[[dict[str, JobHandler]], Worker],
) -> None:
    log: list[tuple[str, dt.datetime]] = []
    worker = make_worker({"record": recorder(log)})
    for name, delay in (("c", 3), ("a", 1), ("b", 2), ("d", 10), ("late", 10.5)):
        add_job(engine, "record", {"name": name}, due_at=START + seconds(delay))
    target = START + seconds(10)
    result = advance_clock(clock, worker, target)
    assert log == [
        ("a", START + seconds(1)),
        ("b", START + seconds(2)),
        ("c", START + seconds(3)),
        ("d", target),  # due exactly at the target: runs
    ]
    assert (result.now, result.jobs_run, clock.now()) == (target, 4, target)
    with unit_of_work(engine, write=False) as session:
        assert next_due_at(session) == START + seconds(10.5)


def test_advance_lands_exactly_on_the_target_with_nothing_due(
    clock: FrozenClock, make_worker: Callable[[dict[str, JobHandler]], Worker]
) -> None:
    worker = make_worker({})
    target = START + dt.timedelta(days=400, microseconds=1)
    result = advance_clock(clock, worker, target)
    assert (result.now, result.jobs_run, clock.now()) == (target, 0, target)
    assert advance_clock(clock, worker, target).now == target  # by zero: stays
    with pytest.raises(ValueError, match="backwards"):
        advance_clock(clock, worker, START)
    assert clock.now() == target


def test_advance_runs_jobs_that_jobs_schedule_within_the_window(
    engine: Engine,
    clock: FrozenClock,
    make_worker: Callable[[dict[str, JobHandler]], Worker],
) -> None:
    log: list[tuple[str, dt.datetime]] = []

    def chain(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
        session = tx.session
        n = int(str(payload["n"]))
        now = context.clock.now()
        log.append((f"chain{n}", now))
        schedule(session, "chain", {"n": n + 1}, due_at=now + seconds(1), now=now)
        # A follow-up due at once runs in the same step.
        schedule(session, "record", {"name": f"echo{n}"}, due_at=now, now=now)

    worker = make_worker({"chain": transactional(chain), "record": recorder(log)})
    add_job(engine, "chain", {"n": 0}, due_at=START + seconds(1))
    result = advance_clock(clock, worker, START + seconds(3.5))
    assert log == [
        ("chain0", START + seconds(1)),
        ("echo0", START + seconds(1)),
        ("chain1", START + seconds(2)),
        ("echo1", START + seconds(2)),
        ("chain2", START + seconds(3)),
        ("echo2", START + seconds(3)),
    ]
    assert result.jobs_run == 6
    with unit_of_work(engine, write=False) as session:
        assert next_due_at(session) == START + seconds(4)  # chain3 waits beyond the window
