"""What the engine's tests share: a job context, workers stopped after the test, and jobs
scheduled in a transaction of their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from fleetsim.core.clock import FrozenClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.jobs import schedule
from fleetsim.engine.worker import JobContext, JobHandler, Worker
from tests.conftest import START

# Leases run on real time; tests hand it in explicitly.
REAL = dt.datetime(2030, 6, 1, 9, 0, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=30)


@pytest.fixture
def context(engine: Engine, clock: FrozenClock, sids: SidFactory) -> JobContext:
    return JobContext(engine, clock, sids)


@pytest.fixture
def make_worker(context: JobContext) -> Iterator[Callable[[dict[str, JobHandler]], Worker]]:
    made: list[Worker] = []

    def make(handlers: dict[str, JobHandler]) -> Worker:
        worker = Worker(context, handlers, concurrency=2, system_clock=FrozenClock(REAL))
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


def add_job(
    engine: Engine,
    kind: str = "noop",
    payload: dict[str, Any] | None = None,
    *,
    due_at: dt.datetime | None = START,
    max_attempts: int = 5,
) -> int:
    with unit_of_work(engine, write=True) as session:
        job = schedule(
            session, kind, payload or {}, due_at=due_at, now=START, max_attempts=max_attempts
        )
        session.flush()
        return job.id


def seconds(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)
