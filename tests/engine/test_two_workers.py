"""Two `fleetsim worker` processes on one PostgreSQL database share the queue: every job
runs exactly once, by one of them, and both take part.

PostgreSQL only: claims there use `FOR UPDATE SKIP LOCKED`, which is what lets two
workers claim side by side. SQLite has a single writer, so its workers take turns and
there is nothing concurrent to prove.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from fleetsim.core.clock import SystemClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.store import Tx
from fleetsim.db.tables import Job, Sim, SimStatusEvent
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.policies import set_policy
from fleetsim.inventory.service import generate_cards, import_cards
from fleetsim.resources.accounts.service import create_account
from fleetsim.resources.fleets.service import NewFleet, create_fleet
from fleetsim.resources.network_access_profiles.service import create_network_access_profile
from fleetsim.resources.sims.lifecycle import COMPLETE_UPDATE
from fleetsim.resources.sims.service import SimChanges, register_sim, update_sim

SIMS = 1_000
WORKERS = 2
CONCURRENCY = 4
DEADLINE_SECONDS = 180.0


def populate(engine: Engine) -> tuple[int, str]:
    """An account with a Fleet and `SIMS` registered Sims, the `sim` policy immediate, and
    a due status change per Sim (a job each), all written in one unit of work."""
    clock, sids = SystemClock(), SidFactory(seed=2)
    cards = list(generate_cards(SIMS, random.Random(2)))
    with unit_of_work(engine, write=True) as session:
        import_cards(session, cards, clock=clock)
        account = create_account(
            session, friendly_name="two workers", parent=None, clock=clock, sids=sids
        )
        create_network_access_profile(
            Tx.of(session), account, unique_name="two-workers", networks=[], clock=clock, sids=sids
        )
        fleet = create_fleet(
            Tx.of(session),
            account,
            fleet=NewFleet(network_access_profile="two-workers", unique_name="two-workers"),
            clock=clock,
            sids=sids,
        )
        set_policy(session, "sim", "immediate", None)
        sims = [
            register_sim(
                Tx.of(session),
                account,
                iccid=card.iccid,
                registration_code=card.registration_code,
                clock=clock,
                sids=sids,
            )
            for card in cards
        ]
        for sim in sims:
            update = update_sim(
                Tx.of(session),
                account,
                sim.sid,
                changes=SimChanges(status="active", fleet=fleet.sid),
                clock=clock,
            )
            assert update.scheduled
        return account.id, fleet.sid


@contextlib.contextmanager
def workers(database_url: str, workdir: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """`WORKERS` worker processes, each logging to its own file; stopped on the way out
    (SIGTERM, then SIGKILL for one that does not stop)."""
    processes: list[subprocess.Popen[str]] = []
    try:
        for number in range(WORKERS):
            with (workdir / f"worker-{number}.log").open("w") as log:
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "fleetsim",
                            "worker",
                            "--database-url",
                            database_url,
                            "--concurrency",
                            str(CONCURRENCY),
                        ],
                        cwd=workdir,
                        env=dict(os.environ),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def logs(workdir: Path) -> str:
    return "\n".join((workdir / f"worker-{n}.log").read_text() for n in range(WORKERS))


def wait_until_done(engine: Engine, processes: list[subprocess.Popen[str]], workdir: Path) -> None:
    """Poll the jobs table until no job is left to run (bounded; a worker that exits fails
    the test at once)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    pause = threading.Event()  # never set: a bounded pause between polls
    left = -1
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, f"a worker exited early:\n{logs(workdir)}"
        with unit_of_work(engine, write=False) as session:
            # Only the status changes: completing them schedules billing-period rollovers,
            # due a month later, which are not this test's business.
            left = session.execute(
                select(func.count())
                .select_from(Job)
                .where(Job.kind == COMPLETE_UPDATE, Job.state != "done")
            ).scalar_one()
        if left == 0:
            return
        pause.wait(0.1)
    pytest.fail(f"{left} jobs not done after {DEADLINE_SECONDS:.0f}s:\n{logs(workdir)}")


def test_two_worker_processes_run_every_job_once(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has one writer, so its workers never claim at once")
    engine = create_database_engine(database_url)
    try:
        account_id, fleet_sid = populate(engine)
        with unit_of_work(engine, write=False) as session:
            due = session.execute(
                select(func.count())
                .select_from(Job)
                .where(Job.kind == COMPLETE_UPDATE, Job.state == "pending")
            ).scalar_one()
        assert due == SIMS

        started = time.monotonic()
        with workers(database_url, tmp_path) as processes:
            wait_until_done(engine, processes, tmp_path)
            elapsed = time.monotonic() - started
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                assert process.wait(timeout=30) == 0, logs(tmp_path)
        names = re.findall(r"Worker (\S+) running on", logs(tmp_path))
        assert len(set(names)) == WORKERS, logs(tmp_path)
        assert logs(tmp_path).count("the jobs it held were handed back") == WORKERS

        with unit_of_work(engine, write=False) as session:
            jobs = session.execute(
                select(Job.kind, Job.state, Job.attempts, Job.claimed_by).where(
                    Job.kind == COMPLETE_UPDATE
                )
            ).all()
            statuses = session.execute(
                select(Sim.status, func.count())
                .where(Sim.account_id == account_id)
                .group_by(Sim.status)
            ).all()
            fleets = set(
                session.execute(
                    select(Sim.fleet_id).where(Sim.account_id == account_id).distinct()
                ).scalars()
            )
            active_events = session.execute(
                select(SimStatusEvent.sim_id, func.count())
                .where(SimStatusEvent.status == "active")
                .group_by(SimStatusEvent.sim_id)
            ).all()
    finally:
        engine.dispose()

    assert len(jobs) == SIMS
    assert {(kind, state, attempts) for kind, state, attempts, _ in jobs} == {
        (COMPLETE_UPDATE, "done", 1)
    }
    per_worker: dict[str | None, int] = {}
    for *_, claimed_by in jobs:
        per_worker[claimed_by] = per_worker.get(claimed_by, 0) + 1
    # complete() keeps claimed_by, so it says which worker ran each job: both took part.
    assert set(per_worker) == set(names), per_worker
    assert all(count > 0 for count in per_worker.values())
    assert statuses == [("active", SIMS)]
    assert len(fleets) == 1, fleet_sid
    assert None not in fleets
    # One completion per Sim: no job's effects were committed twice.
    assert len(active_events) == SIMS
    assert {count for _, count in active_events} == {1}
    print(
        f"{SIMS} jobs by {WORKERS} workers x {CONCURRENCY} in {elapsed:.2f}s "
        f"({SIMS / elapsed:.0f} jobs/s); per worker: {sorted(per_worker.values())}"
    )
