"""Jobs: rows that say what to do and when, claimed by workers, run at least once.

A job is written in the same transaction as the change that causes it. Workers claim due
jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single write lock elsewhere), run
each in its own unit of work, and complete it in that same unit of work only while they
still hold the claim: a job whose worker died is claimed again when its lease runs out,
and its effects are never committed twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from fleetsim.db.dialect import for_update
from fleetsim.db.store import Row, Tx, stored_datetime
from fleetsim.db.tables import Job
from fleetsim.db.units import transaction

__all__ = [
    "ClaimedJob",
    "LostClaim",
    "any_claimable",
    "claim",
    "claim_due",
    "complete",
    "fail",
    "job_values",
    "next_due_at",
    "pending_for",
    "release_claims",
    "reschedule",
    "schedule",
    "unfinished_count",
    "wake",
]

DEFAULT_MAX_ATTEMPTS = 5
_MAX_ERROR = 2000


class LostClaim(Exception):
    """The job was claimed by another worker after this one's lease ran out."""


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    subject: str | None
    attempts: int
    max_attempts: int
    due_at: dt.datetime | None
    worker: str


def schedule(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    due_at: dt.datetime | None,
    now: dt.datetime,
    subject: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Job:
    """Add a job to the unit of work; `due_at=None` waits for an explicit run."""
    job = Job(
        **job_values(
            kind, payload, due_at=due_at, now=now, subject=subject, max_attempts=max_attempts
        )
    )
    session.add(job)
    return job


def job_values(
    kind: str,
    payload: dict[str, Any],
    *,
    due_at: dt.datetime | None,
    now: dt.datetime,
    subject: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> dict[str, Any]:
    """The values of a new pending job (`schedule` adds it; a Tx inserts them)."""
    return {
        "kind": kind,
        "payload": orjson.dumps(payload).decode(),  # compact, as json.dumps(separators=...)
        "subject": subject,
        "state": "pending",
        "due_at": due_at,
        "attempts": 0,
        "max_attempts": max_attempts,
        "created_at": now,
    }


def claim_due(
    engine: Engine,
    *,
    now: dt.datetime,
    real_now: dt.datetime,
    worker: str,
    lease: dt.timedelta,
    limit: int,
    job_id: int | None = None,
) -> list[ClaimedJob]:
    """Claim up to `limit` jobs: running ones whose lease ran out by `real_now`, then those
    due at `now`, oldest due first (or the one `job_id`, due or not), in a transaction of
    their own."""
    if not any_claimable(engine, now=now, real_now=real_now, job_id=job_id):
        return []
    with transaction(engine, write=True) as tx:
        return claim(
            tx, now=now, real_now=real_now, worker=worker, lease=lease, limit=limit, job_id=job_id
        )


def any_claimable(
    engine: Engine, *, now: dt.datetime, real_now: dt.datetime, job_id: int | None = None
) -> bool:
    """Whether `claim` would find a job: a look before taking the write lock. An idle
    worker polls often, and on SQLite a write transaction would block every API writer
    each time."""
    with transaction(engine, write=False) as tx:
        conditions = _claimable(tx, now, real_now, job_id)
        where = " OR ".join(f"({condition})" for condition, _ in conditions)
        params = tuple(param for _, given in conditions for param in given)
        return tx.one(f"SELECT id FROM jobs WHERE {where} LIMIT 1", params) is not None  # noqa: S608


def claim(
    tx: Tx,
    *,
    now: dt.datetime,
    real_now: dt.datetime,
    worker: str,
    lease: dt.timedelta,
    limit: int,
    job_id: int | None = None,
) -> list[ClaimedJob]:
    """`claim_due` in the caller's write transaction: the claims commit with it. Rows
    another claimer holds are skipped (PostgreSQL; SQLite has one writer).

    Running jobs whose lease ran out come first (a worker that died left them), then the
    pending ones, oldest due first. Each is its own statement, so that each reads its
    index in order and stops at `limit`: under one condition joined by OR, the database
    read and sorted every due job to take a few, a cost that grew with the backlog."""
    lock = for_update(tx.engine, "jobs")
    skip_locked = f"{lock} SKIP LOCKED" if lock else ""
    rows: list[Row] = []
    for where, params in _claimable(tx, now, real_now, job_id):
        if len(rows) == limit:
            break
        rows += tx.all(
            f"SELECT id, kind, payload, subject, attempts, max_attempts, due_at FROM jobs"  # noqa: S608
            f" WHERE {where} ORDER BY due_at, id LIMIT ?{skip_locked}",
            (*params, limit - len(rows)),
        )
    if not rows:
        return []
    marks = ", ".join("?" for _ in rows)
    tx.execute(
        "UPDATE jobs SET state = 'running', claimed_by = ?, lease_until = ?,"  # noqa: S608
        f" attempts = attempts + 1 WHERE id IN ({marks})",
        (worker, tx.bound(Job, "lease_until", real_now + lease), *(row[0] for row in rows)),
    )
    return [
        ClaimedJob(
            id=row_id,
            kind=kind,
            payload=orjson.loads(payload),
            subject=subject,
            attempts=attempts + 1,
            max_attempts=max_attempts,
            due_at=None if due_at is None else stored_datetime(due_at),
            worker=worker,
        )
        for row_id, kind, payload, subject, attempts, max_attempts, due_at in rows
    ]


def _claimable(
    tx: Tx, now: dt.datetime, real_now: dt.datetime, job_id: int | None
) -> list[tuple[str, tuple[Any, ...]]]:
    """What `claim` takes, in its order: conditions on `jobs`, each with its parameters."""
    if job_id is not None:
        return [("id = ? AND state = 'pending'", (job_id,))]
    return [
        ("state = 'running' AND lease_until < ?", (tx.bound(Job, "lease_until", real_now),)),
        ("state = 'pending' AND due_at <= ?", (tx.bound(Job, "due_at", now),)),
    ]


def _owned(tx: Tx, job: ClaimedJob) -> None:
    """Lock the job's row until the caller commits, if `job.worker` still holds it.

    The lock keeps the claim from being taken over between this check and the commit
    (a claimer skips locked rows); without it, two workers could both commit the job's
    effects on PostgreSQL."""
    row = tx.one(
        f"SELECT id FROM jobs WHERE id = ? AND state = 'running' AND claimed_by = ?"  # noqa: S608
        f"{for_update(tx.engine, 'jobs')}",
        (job.id, job.worker),
    )
    if row is None:
        raise LostClaim(f"job {job.id} is no longer held by {job.worker}")


def complete(tx: Tx, job: ClaimedJob, *, now: dt.datetime) -> None:
    """Mark the job done in the caller's transaction (which holds its effects)."""
    _owned(tx, job)
    tx.update(Job, {"state": "done", "finished_at": now, "lease_until": None}, id=job.id)


def reschedule(tx: Tx, job: ClaimedJob, *, due_at: dt.datetime, error: str) -> None:
    """Put the job back to run again at `due_at` (a retry), keeping its attempt count."""
    _owned(tx, job)
    values = {
        "state": "pending",
        "due_at": due_at,
        "last_error": error[:_MAX_ERROR],
        "lease_until": None,
        "claimed_by": None,
    }
    tx.update(Job, values, id=job.id)


def fail(tx: Tx, job: ClaimedJob, *, error: str, now: dt.datetime, retry_at: dt.datetime) -> None:
    """Record a failed run in the caller's transaction: retry at `retry_at`, or give up
    after `max_attempts`. A claim another worker took over meanwhile is left to it."""
    try:
        _owned(tx, job)
    except LostClaim:
        return
    values: dict[str, Any] = {
        "last_error": error[:_MAX_ERROR],
        "lease_until": None,
        "claimed_by": None,
    }
    if job.attempts >= job.max_attempts:
        values.update(state="dead", finished_at=now)
    else:
        values.update(state="pending", due_at=retry_at)
    tx.update(Job, values, id=job.id)


def next_due_at(session: Session) -> dt.datetime | None:
    """When the earliest pending job is due (jobs waiting for an explicit run excluded)."""
    return session.execute(
        select(func.min(Job.due_at)).where(Job.state == "pending", Job.due_at.is_not(None))
    ).scalar_one()


def unfinished_count(session: Session, *, due_by: dt.datetime) -> int:
    """Jobs due by `due_by` that are waiting or running."""
    return session.execute(
        select(func.count())
        .select_from(Job)
        .where(Job.state.in_(("pending", "running")), Job.due_at <= due_by)
    ).scalar_one()


def pending_for(session: Session, subject: str) -> list[Job]:
    """Pending jobs about one resource (e.g. a Sim SID), oldest first."""
    return list(
        session.execute(
            select(Job).where(Job.subject == subject, Job.state == "pending").order_by(Job.id)
        ).scalars()
    )


def wake(session: Session, subject: str, *, now: dt.datetime) -> int:
    """Make the pending jobs about `subject` due now (e.g. work waiting for a device to
    attach); return how many."""
    result = session.execute(
        update(Job)
        .where(Job.subject == subject, Job.state == "pending")
        .values(due_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release_claims(engine: Engine, worker: str) -> None:
    """Hand back what `worker` holds, when it stops cleanly."""
    with transaction(engine, write=True) as tx:
        tx.execute(
            "UPDATE jobs SET state = 'pending', claimed_by = NULL, lease_until = NULL"
            " WHERE state = 'running' AND claimed_by = ?",
            (worker,),
        )
