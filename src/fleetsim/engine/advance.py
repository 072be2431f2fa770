"""Advance the manual clock, running everything that falls due, in due order."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from fleetsim.db.uow import unit_of_work
from fleetsim.engine.clock import SettableClock
from fleetsim.engine.jobs import next_due_at, unfinished_count
from fleetsim.engine.worker import Worker

__all__ = ["Advanced", "advance_clock"]


@dataclass(frozen=True)
class Advanced:
    now: dt.datetime
    jobs_run: int


def advance_clock(
    clock: SettableClock, worker: Worker, target: dt.datetime, *, settle_seconds: float = 30.0
) -> Advanced:
    """Step the clock from due time to due time up to `target`; at each step, run every
    job due by then (and what those jobs schedule) before moving on."""
    engine = worker.context.engine
    if target < clock.now():
        raise ValueError("the clock never moves backwards")
    ran = 0
    while True:
        ran += _settle(worker, clock.now(), settle_seconds)
        with unit_of_work(engine, write=False) as session:
            due = next_due_at(session)
        if due is None or due > target or due <= clock.now():
            # (due <= now: only jobs another worker could not finish in time; move on.)
            break
        clock.set(due)
    if target > clock.now():
        clock.set(target)
    ran += _settle(worker, target, settle_seconds)
    return Advanced(now=clock.now(), jobs_run=ran)


def _settle(worker: Worker, now: dt.datetime, settle_seconds: float) -> int:
    """Run what is due by `now`, and wait (bounded) for jobs other workers are running."""
    ran = worker.run_until_idle()
    waited = threading.Event()
    remaining = settle_seconds
    while remaining > 0:
        with unit_of_work(worker.context.engine, write=False) as session:
            if unfinished_count(session, due_by=now) == 0:
                break
        waited.wait(0.02)
        remaining -= 0.02
        ran += worker.run_until_idle()
    return ran
