"""Jobs: rows that say what to do and when, claimed by workers, run at least once.

A job is written in the same transaction as the change that causes it. Workers claim due
jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single write lock elsewhere), run
each in its own unit of work, and complete it in that same unit of work only while they
still hold the claim: a job whose worker died is claimed again when its lease runs out,
and its effects are never committed twice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import Session

from fleetsim.db.dialect import skip_locked
from fleetsim.db.tables import Job
from fleetsim.db.uow import unit_of_work

__all__ = [
    "ClaimedJob",
    "LostClaim",
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
        "payload": json.dumps(payload, separators=(",", ":")),
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
    """Claim up to `limit` jobs due at `now` (or the one `job_id`, due or not), oldest due
    first, plus running jobs whose lease ran out by `real_now`."""
    if job_id is not None:
        claimable = and_(Job.id == job_id, Job.state == "pending")
    else:
        claimable = or_(
            and_(Job.state == "pending", Job.due_at <= now),
            and_(Job.state == "running", Job.lease_until < real_now),
        )
    # Look before taking the write lock: an idle worker polls often, and on SQLite a
    # write transaction would block every API writer each time.
    with unit_of_work(engine, write=False) as session:
        if session.execute(select(Job.id).where(claimable).limit(1)).first() is None:
            return []
    with unit_of_work(engine, write=True) as session:
        query = select(Job).where(claimable).order_by(Job.due_at, Job.id).limit(limit)
        jobs = list(session.execute(skip_locked(query)).scalars())
        claimed = []
        for job in jobs:
            job.state = "running"
            job.claimed_by = worker
            job.lease_until = real_now + lease
            job.attempts += 1
            claimed.append(
                ClaimedJob(
                    id=job.id,
                    kind=job.kind,
                    payload=json.loads(job.payload),
                    subject=job.subject,
                    attempts=job.attempts,
                    max_attempts=job.max_attempts,
                    due_at=job.due_at,
                    worker=worker,
                )
            )
        return claimed


def _owned(session: Session, job: ClaimedJob) -> Job:
    """The job's row, locked until the caller commits, if `job.worker` still holds it.

    The lock keeps the claim from being taken over between this check and the commit
    (a claimer skips locked rows); without it, two workers could both commit the job's
    effects on PostgreSQL."""
    row = session.execute(
        select(Job)
        .where(Job.id == job.id, Job.state == "running", Job.claimed_by == job.worker)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise LostClaim(f"job {job.id} is no longer held by {job.worker}")
    return row


def complete(session: Session, job: ClaimedJob, *, now: dt.datetime) -> None:
    """Mark the job done in the caller's unit of work (which holds its effects)."""
    row = _owned(session, job)
    row.state = "done"
    row.finished_at = now
    row.lease_until = None
    session.flush()


def reschedule(session: Session, job: ClaimedJob, *, due_at: dt.datetime, error: str) -> None:
    """Put the job back to run again at `due_at` (a retry), keeping its attempt count."""
    row = _owned(session, job)
    row.state = "pending"
    row.due_at = due_at
    row.last_error = error[:_MAX_ERROR]
    row.lease_until = None
    row.claimed_by = None
    session.flush()


def fail(
    engine: Engine, job: ClaimedJob, *, error: str, now: dt.datetime, retry_at: dt.datetime
) -> None:
    """Record a failed run: retry at `retry_at`, or give up after `max_attempts`."""
    with unit_of_work(engine, write=True) as session:
        try:
            row = _owned(session, job)
        except LostClaim:
            return
        row.last_error = error[:_MAX_ERROR]
        row.lease_until = None
        row.claimed_by = None
        if job.attempts >= job.max_attempts:
            row.state = "dead"
            row.finished_at = now
        else:
            row.state = "pending"
            row.due_at = retry_at


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
    with unit_of_work(engine, write=True) as session:
        session.execute(
            update(Job)
            .where(Job.state == "running", Job.claimed_by == worker)
            .values(state="pending", claimed_by=None, lease_until=None)
        )
