"""Rules of the engine on both backends: scheduling, claiming, leases, retries and the
worker (advancing the manual clock through due jobs: `test_advance.py`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from fleetsim.core.clock import FrozenClock
from fleetsim.db.store import Tx
from fleetsim.db.tables import Job, ProgressionPolicy
from fleetsim.db.units import transaction
from fleetsim.db.uow import unit_of_work
from fleetsim.engine import worker as worker_module
from fleetsim.engine.jobs import (
    ClaimedJob,
    LostClaim,
    claim_due,
    complete,
    fail,
    next_due_at,
    release_claims,
)
from fleetsim.engine.jobs import claim as claim_in
from fleetsim.engine.worker import JobContext, JobHandler, Worker, retry_backoff, transactional
from tests.conftest import START
from tests.engine.conftest import LEASE, REAL, add_job, seconds


def claim(
    engine: Engine,
    *,
    now: dt.datetime = START,
    real_now: dt.datetime = REAL,
    worker: str = "w1",
    lease: dt.timedelta = LEASE,
    limit: int = 10,
    job_id: int | None = None,
) -> list[ClaimedJob]:
    return claim_due(
        engine, now=now, real_now=real_now, worker=worker, lease=lease, limit=limit, job_id=job_id
    )


def fail_job(engine: Engine, job: ClaimedJob, **record: Any) -> None:
    """`fail` in a transaction of its own, as a worker records a failed run."""
    with transaction(engine, write=True) as tx:
        fail(tx, job, **record)


def job_row(engine: Engine, job_id: int) -> Job:
    with unit_of_work(engine, write=False) as session:
        row = session.get(Job, job_id)
        assert row is not None
        return row


def set_policy_row(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    """A visible transactional effect: a row that exists only if the job's unit commits."""
    session = tx.session
    session.add(ProgressionPolicy(lifecycle=str(payload["name"]), policy="manual", delay_seconds=0))
    session.flush()


def policy_rows(engine: Engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.execute(select(func.count()).select_from(ProgressionPolicy)).scalar_one()


# --- scheduling and claiming ------------------------------------------------------------


def test_a_due_job_is_claimed_once(engine: Engine) -> None:
    job_id = add_job(engine, "greet", {"to": "world", "n": 1})
    (job,) = claim(engine)
    assert (job.id, job.kind, job.payload, job.attempts) == (
        job_id,
        "greet",
        {"to": "world", "n": 1},
        1,
    )
    assert job.worker == "w1"
    assert claim(engine) == []
    assert claim(engine, worker="w2") == []
    row = job_row(engine, job_id)
    assert (row.state, row.claimed_by, row.lease_until) == ("running", "w1", REAL + LEASE)


def test_jobs_not_yet_due_are_not_claimed(engine: Engine) -> None:
    job_id = add_job(engine, due_at=START + seconds(1))
    assert claim(engine) == []
    assert claim(engine, now=START + seconds(0.5)) == []
    assert [j.id for j in claim(engine, now=START + seconds(1))] == [job_id]


def test_claims_take_the_oldest_due_first_up_to_the_limit(engine: Engine) -> None:
    late = add_job(engine, due_at=START + seconds(3))
    early = add_job(engine, due_at=START + seconds(1))
    middle = add_job(engine, due_at=START + seconds(2))
    now = START + seconds(5)
    assert [j.id for j in claim(engine, now=now, limit=2)] == [early, middle]
    assert [j.id for j in claim(engine, now=now, limit=2)] == [late]


def test_a_job_without_due_time_is_claimable_only_by_id(engine: Engine) -> None:
    job_id = add_job(engine, due_at=None)
    far = START + dt.timedelta(days=3650)
    assert claim(engine, now=far) == []
    with unit_of_work(engine, write=False) as session:
        assert next_due_at(session) is None
    (job,) = claim(engine, job_id=job_id)
    assert job.id == job_id
    assert job.due_at is None
    assert claim(engine, job_id=job_id) == []  # running now: not claimable again


def test_claim_by_id_ignores_other_due_jobs(engine: Engine) -> None:
    due = add_job(engine)
    wanted = add_job(engine, due_at=START + seconds(60))
    assert [j.id for j in claim(engine, job_id=wanted)] == [wanted]
    assert [j.id for j in claim(engine)] == [due]


def test_next_due_at_is_the_earliest_pending(engine: Engine) -> None:
    add_job(engine, due_at=None)
    first = add_job(engine, due_at=START + seconds(2))
    add_job(engine, due_at=START + seconds(4))
    with unit_of_work(engine, write=False) as session:
        assert next_due_at(session) == START + seconds(2)
    claim(engine, now=START + seconds(2), job_id=first)
    with unit_of_work(engine, write=False) as session:
        assert next_due_at(session) == START + seconds(4)


def test_jobs_whose_lease_ran_out_come_before_pending_ones_within_the_limit(
    engine: Engine,
) -> None:
    stalled = add_job(engine, due_at=START + seconds(2))
    # A worker claimed it an hour ago, with a lease long over.
    claim(
        engine,
        worker="w1",
        lease=seconds(1),
        now=START + seconds(2),
        real_now=REAL - dt.timedelta(hours=1),
    )
    earlier = add_job(engine, due_at=START)
    later = add_job(engine, due_at=START + seconds(1))
    now = START + seconds(5)
    assert [j.id for j in claim(engine, worker="w2", now=now, limit=2)] == [stalled, earlier]
    assert [j.id for j in claim(engine, worker="w2", now=now, limit=2)] == [later]


def test_a_claim_reads_the_due_jobs_in_index_order(engine: Engine) -> None:
    """However long the backlog, a claim reads as many jobs as it takes: each of its
    statements walks the jobs' index in order, never sorting every due job."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the plan of SQLite's statements (PostgreSQL's depends on its statistics)")
    for _ in range(3):
        add_job(engine)
    sent: list[str] = []
    with unit_of_work(engine, write=True) as session:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        dbapi.set_trace_callback(sent.append)  # each statement, its values written in
        claimed = claim_in(
            Tx.of(session), now=START, real_now=REAL, worker="w1", lease=LEASE, limit=5
        )
        dbapi.set_trace_callback(None)
        reads = [sql for sql in sent if sql.startswith("SELECT id, kind")]
        plans = [
            row[-1]
            for sql in reads
            for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
        ]
    assert len(claimed) == 3
    assert len(reads) == 2  # the expired leases, then the pending jobs
    assert len(plans) == 2
    assert all(plan.startswith("SEARCH jobs USING INDEX") for plan in plans), plans


# --- completion and lost claims ---------------------------------------------------------


def test_complete_marks_the_job_done(engine: Engine) -> None:
    job_id = add_job(engine)
    (job,) = claim(engine)
    with transaction(engine, write=True) as tx:
        complete(tx, job, now=START + seconds(1))
    row = job_row(engine, job_id)
    assert (row.state, row.finished_at, row.lease_until) == ("done", START + seconds(1), None)
    assert (
        claim(engine, now=START + dt.timedelta(days=1), real_now=REAL + dt.timedelta(days=1)) == []
    )


def test_an_expired_lease_is_claimed_again_and_the_first_worker_loses(
    engine: Engine, context: JobContext
) -> None:
    job_id = add_job(engine, "effect", {"name": "first"})
    # Worker 1 claimed long ago (in real time) with a short lease, then stalled.
    (stale,) = claim(engine, worker="w1", lease=seconds(1), real_now=REAL - dt.timedelta(hours=1))
    assert claim(engine, worker="w2", real_now=REAL - dt.timedelta(hours=1)) == []  # still leased
    (fresh,) = claim(engine, worker="w2")
    assert (fresh.id, fresh.attempts) == (job_id, 2)

    handler = transactional(set_policy_row)
    with pytest.raises(LostClaim, match=f"job {job_id} is no longer held by w1"):
        handler(context, stale)
    assert policy_rows(engine) == 0  # its effects rolled back with the completion
    assert job_row(engine, job_id).state == "running"

    handler(context, fresh)
    assert policy_rows(engine) == 1
    assert job_row(engine, job_id).state == "done"


def test_a_claim_stays_held_from_its_check_to_its_commit(
    engine: Engine, context: JobContext
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: no claim can interleave with a completion")
    job_id = add_job(engine, "effect", {"name": "first"})
    (stale,) = claim(engine, worker="w1", lease=seconds(1), real_now=REAL - dt.timedelta(hours=1))
    taken: list[ClaimedJob] = []

    with transaction(engine, write=True) as tx:
        set_policy_row(tx, context, {"name": "first"})
        complete(tx, stale, now=START)
        # Worker 1 has checked its claim and is about to commit; worker 2 tries now.
        for job in claim(engine, worker="w2"):
            taken.append(job)
            transactional(set_policy_row)(context, replace(job, payload={"name": "second"}))
    assert policy_rows(engine) == 1  # else both workers committed the job's effects
    assert taken == []
    row = job_row(engine, job_id)
    assert (row.state, row.claimed_by) == ("done", "w1")


def test_a_lost_claim_cannot_fail_the_job_either(engine: Engine) -> None:
    job_id = add_job(engine)
    (stale,) = claim(engine, worker="w1", lease=seconds(1), real_now=REAL - dt.timedelta(hours=1))
    (fresh,) = claim(engine, worker="w2")
    fail_job(engine, stale, error="late", now=START, retry_at=START + seconds(5))
    row = job_row(engine, job_id)
    assert (row.state, row.claimed_by, row.last_error) == ("running", "w2", None)
    with transaction(engine, write=True) as tx:
        complete(tx, fresh, now=START)
    assert job_row(engine, job_id).state == "done"


def test_a_worker_survives_a_lost_claim(
    engine: Engine, context: JobContext, make_worker: Callable[[dict[str, JobHandler]], Worker]
) -> None:
    job_id = add_job(engine, "effect", {"name": "late"})
    worker = make_worker({"effect": transactional(set_policy_row)})
    (stale,) = claim(engine, worker=worker.name, lease=seconds(1), real_now=REAL - seconds(60))
    claim(engine, worker="other")
    worker._run(stale)
    row = job_row(engine, job_id)
    assert (row.state, row.claimed_by, row.last_error) == ("running", "other", None)
    assert policy_rows(engine) == 0


# --- failures and retries ---------------------------------------------------------------


def test_fail_reschedules_and_gives_up_after_max_attempts(engine: Engine) -> None:
    job_id = add_job(engine, max_attempts=2)
    (job,) = claim(engine)
    fail_job(engine, job, error="E" * 5000, now=START, retry_at=START + seconds(5))
    row = job_row(engine, job_id)
    assert (row.state, row.due_at, row.attempts, row.claimed_by) == (
        "pending",
        START + seconds(5),
        1,
        None,
    )
    assert row.last_error == "E" * 2000  # bounded
    assert claim(engine, now=START + seconds(4)) == []

    (again,) = claim(engine, now=START + seconds(5))
    assert again.attempts == 2
    fail_job(
        engine, again, error="still broken", now=START + seconds(5), retry_at=START + seconds(15)
    )
    row = job_row(engine, job_id)
    assert (row.state, row.finished_at, row.last_error) == (
        "dead",
        START + seconds(5),
        "still broken",
    )
    assert claim(engine, now=START + dt.timedelta(days=1)) == []


def test_retry_backoff_doubles_up_to_ten_minutes() -> None:
    assert [retry_backoff(n).total_seconds() for n in range(1, 10)] == [
        5,
        10,
        20,
        40,
        80,
        160,
        320,
        600,
        600,
    ]


def test_a_raising_handler_is_retried_with_backoff(
    engine: Engine,
    clock: FrozenClock,
    make_worker: Callable[[dict[str, JobHandler]], Worker],
) -> None:
    def boom(context: JobContext, job: ClaimedJob) -> None:
        raise RuntimeError(f"kaput #{job.attempts}")

    job_id = add_job(engine, "boom")
    worker = make_worker({"boom": boom})
    assert worker.run_once() == 1
    row = job_row(engine, job_id)
    assert (row.state, row.due_at, row.attempts) == ("pending", START + seconds(5), 1)
    assert row.last_error == "RuntimeError: kaput #1"
    assert worker.run_once() == 0  # not due again yet

    clock.set(START + seconds(5))
    assert worker.run_once() == 1
    row = job_row(engine, job_id)
    assert (row.state, row.due_at, row.attempts) == ("pending", START + seconds(15), 2)
    assert row.last_error == "RuntimeError: kaput #2"


def test_a_worker_records_an_unknown_job_kind(
    engine: Engine, make_worker: Callable[[dict[str, JobHandler]], Worker]
) -> None:
    job_id = add_job(engine, "mystery.kind")
    worker = make_worker({})
    assert worker.run_once() == 1
    row = job_row(engine, job_id)
    assert row.state == "pending"
    assert row.due_at == START + seconds(5)
    assert row.last_error is not None
    assert "no handler" in row.last_error
    assert "mystery.kind" in row.last_error


def test_a_failing_transactional_handler_commits_none_of_its_effects(
    engine: Engine, make_worker: Callable[[dict[str, JobHandler]], Worker]
) -> None:
    def half_done(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
        set_policy_row(tx, context, payload)
        raise ValueError("half way")

    job_id = add_job(engine, "half", {"name": "half"})
    make_worker({"half": transactional(half_done)}).run_once()
    assert policy_rows(engine) == 0
    assert job_row(engine, job_id).last_error == "ValueError: half way"


def test_a_batch_keeps_the_work_of_its_good_jobs_and_the_retry_of_a_failed_one(
    engine: Engine, make_worker: Callable[[dict[str, JobHandler]], Worker]
) -> None:
    def half_done(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
        set_policy_row(tx, context, payload)
        raise ValueError("half way")

    good = add_job(engine, "effect", {"name": "good"})
    bad = add_job(engine, "half", {"name": "bad"})
    worker = make_worker(
        {"effect": transactional(set_policy_row), "half": transactional(half_done)}
    )
    assert worker.run_once() == 2
    assert policy_rows(engine) == 1  # the good job's, not the failed one's
    assert job_row(engine, good).state == "done"
    row = job_row(engine, bad)
    assert (row.state, row.due_at, row.last_error) == (
        "pending",
        START + seconds(5),
        "ValueError: half way",
    )


def test_a_batch_takes_the_writer_once_on_sqlite(
    engine: Engine,
    make_worker: Callable[[dict[str, JobHandler]], Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes: list[bool] = []

    def counted(engine: Engine, *, write: bool, wait: bool = True) -> Any:
        writes.append(write)
        return transaction(engine, write=write, wait=wait)

    monkeypatch.setattr(worker_module, "transaction", counted)
    for name in ("one", "two"):
        add_job(engine, "effect", {"name": name})
    assert make_worker({"effect": transactional(set_policy_row)}).run_once() == 2
    assert policy_rows(engine) == 2
    # SQLite: one transaction claims the batch and runs it; PostgreSQL: one claims it and
    # each job runs in its own, concurrently.
    assert writes.count(True) == (1 if engine.dialect.name == "sqlite" else 3)


def test_a_handler_that_does_io_runs_after_its_claim_commits(
    engine: Engine, make_worker: Callable[[dict[str, JobHandler]], Worker]
) -> None:
    seen: list[tuple[str, str]] = []

    def send(context: JobContext, job: ClaimedJob) -> None:
        # The writer is free (a webhook's HTTP request must not hold SQLite's), and the
        # claim is committed: another connection sees it.
        with transaction(context.engine, write=True, wait=False) as tx:
            row = tx.one("SELECT state, claimed_by FROM jobs WHERE id = ?", (job.id,))
            assert row is not None
            seen.append((row[0], row[1]))
            complete(tx, job, now=START)

    job_id = add_job(engine, "send")
    effect = add_job(engine, "effect", {"name": "beside"})
    worker = make_worker({"send": send, "effect": transactional(set_policy_row)})
    assert worker.run_once() == 2
    assert seen == [("running", worker.name)]
    assert job_row(engine, job_id).state == "done"
    assert job_row(engine, effect).state == "done"


# --- stopping ---------------------------------------------------------------------------


def test_release_claims_hands_back_a_stopped_workers_jobs(engine: Engine) -> None:
    mine = add_job(engine)
    theirs = add_job(engine)
    claim(engine, worker="w1", job_id=mine)
    claim(engine, worker="w2", job_id=theirs)
    release_claims(engine, "w1")
    row = job_row(engine, mine)
    assert (row.state, row.claimed_by, row.lease_until) == ("pending", None, None)
    assert job_row(engine, theirs).claimed_by == "w2"
    (again,) = claim(engine, worker="w3")
    assert (again.id, again.attempts) == (mine, 2)


def test_stopping_a_worker_releases_its_claims(
    engine: Engine, make_worker: Callable[[dict[str, JobHandler]], Worker]
) -> None:
    job_id = add_job(engine)
    worker = make_worker({})
    claim(engine, worker=worker.name)
    worker.stop()
    assert job_row(engine, job_id).state == "pending"
    assert [j.id for j in claim(engine, worker="w2")] == [job_id]
