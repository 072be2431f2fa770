"""The worker: claims due jobs and runs each with its handler.

`fleetsim serve` runs one in a background thread; `fleetsim worker` runs one alone, so
that API nodes and workers scale apart. The control API also uses a worker inline to run
everything that falls due while it advances the manual clock.

The engine knows nothing of the jobs it runs: each kind of job brings its handler, and
whatever a handler needs beyond the database, the clock and the SIDs (a webhook transport,
say) is bound into it where the handlers are assembled (`fleetsim.app.setup`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine

from fleetsim.core.clock import Clock, SystemClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import is_sqlite
from fleetsim.db.store import Tx
from fleetsim.db.units import transaction
from fleetsim.engine.jobs import (
    ClaimedJob,
    LostClaim,
    any_claimable,
    claim,
    complete,
    fail,
    release_claims,
)

__all__ = ["JobContext", "JobHandler", "Transactional", "Worker", "transactional"]

log = logging.getLogger("fleetsim.worker")


@dataclass(frozen=True)
class JobContext:
    engine: Engine
    clock: Clock
    sids: SidFactory


JobHandler = Callable[[JobContext, ClaimedJob], None]
# The work of a `Transactional` handler, in the transaction it is given; rules still on the
# ORM use `tx.session`, in that same transaction.
TransactionalWork = Callable[[Tx, JobContext, dict[str, object]], None]


class Transactional:
    """A handler whose effects and the job's completion commit together, or not at all;
    on SQLite, the worker runs a batch of them in the transaction that claims it
    (`Worker.run_once`)."""

    def __init__(self, work: TransactionalWork) -> None:
        self.work = work
        self.__name__ = work.__name__

    def __call__(self, context: JobContext, job: ClaimedJob) -> None:
        with transaction(context.engine, write=True) as tx:
            self.run(tx, context, job)

    def run(self, tx: Tx, context: JobContext, job: ClaimedJob) -> None:
        """The job's work and its completion, in the transaction `tx`."""
        self.work(tx, context, job.payload)
        complete(tx, job, now=context.clock.now())


def transactional(work: TransactionalWork) -> JobHandler:
    """`work` as a `Transactional` job handler."""
    return Transactional(work)


def retry_backoff(attempt: int) -> dt.timedelta:
    """Delay before retrying a job that raised: 5 s, 10 s, 20 s, ... up to 10 minutes."""
    return dt.timedelta(seconds=min(5 * 2 ** (attempt - 1), 600))


class Worker:
    def __init__(
        self,
        context: JobContext,
        handlers: Mapping[str, JobHandler],
        *,
        concurrency: int = 4,
        poll_seconds: float = 0.2,
        lease: dt.timedelta = dt.timedelta(seconds=30),
        system_clock: Clock | None = None,
    ) -> None:
        self.context = context
        self.handlers = handlers
        self.concurrency = concurrency
        # SQLite has one writer: the jobs claimed together run in the transaction that
        # claims them (`_claim_and_run`); elsewhere each runs in a thread of its own. A
        # claim takes `concurrency` jobs either way: a larger batch holds SQLite's writer
        # longer, and the API's writes wait behind it (see `bench/api.py --cases sms`,
        # creating SMS Commands while they are delivered).
        self.sqlite = is_sqlite(context.engine)
        self.poll_seconds = poll_seconds
        self.lease = lease
        # Leases are about processes staying alive, so they run on real time even when
        # the server clock is manual.
        self.system_clock = system_clock or SystemClock()
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="job")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, *, job_id: int | None = None) -> int:
        """Claim one batch of due jobs (or the one `job_id`) and run it; return how many."""
        now, real_now = self.context.clock.now(), self.system_clock.now()
        if not any_claimable(self.context.engine, now=now, real_now=real_now, job_id=job_id):
            return 0
        if self.sqlite:
            jobs, later = self._claim_and_run(now, real_now, job_id)
            for job in later:
                self._run(job)
            return len(jobs)
        with transaction(self.context.engine, write=True) as tx:
            jobs = self._claim(tx, now, real_now, job_id)
        if len(jobs) == 1:
            self._run(jobs[0])
        elif jobs:
            list(self._pool.map(self._run, jobs))
        return len(jobs)

    def _claim(
        self, tx: Tx, now: dt.datetime, real_now: dt.datetime, job_id: int | None
    ) -> list[ClaimedJob]:
        return claim(
            tx,
            now=now,
            real_now=real_now,
            worker=self.name,
            lease=self.lease,
            limit=self.concurrency,
            job_id=job_id,
        )

    def _claim_and_run(
        self, now: dt.datetime, real_now: dt.datetime, job_id: int | None
    ) -> tuple[list[ClaimedJob], list[ClaimedJob]]:
        """SQLite: claim a batch and run its transactional jobs in one write transaction,
        so the worker takes the single writer once a batch. Each job runs in a savepoint:
        one that raises leaves none of its effects, and its retry is recorded in the same
        transaction. The other jobs (a webhook's HTTP request) must not hold the writer:
        they are claimed here and returned, to run after the commit."""
        later = []
        with transaction(self.context.engine, write=True) as tx:
            jobs = self._claim(tx, now, real_now, job_id)
            for job in jobs:
                handler = self.handlers.get(job.kind)
                if not isinstance(handler, Transactional):
                    later.append(job)
                    continue
                try:
                    with tx.savepoint():
                        handler.run(tx, self.context, job)
                except Exception as exc:  # the job's own failure: the batch goes on
                    self._failed(tx, job, exc)
        return jobs, later

    def run_until_idle(self, *, limit: int = 100_000) -> int:
        """Run batches until nothing is due; return how many jobs ran."""
        ran = 0
        while ran < limit:
            count = self.run_once()
            if count == 0:
                break
            ran += count
        return ran

    def _run(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            handler(self.context, job)
        except Exception as exc:
            with transaction(self.context.engine, write=True) as tx:
                self._failed(tx, job, exc)

    def _failed(self, tx: Tx, job: ClaimedJob, exc: Exception) -> None:
        """Record in `tx` that `job` raised `exc`: it is retried later, unless another
        worker took it over meanwhile."""
        if isinstance(exc, LostClaim):
            log.warning("job %s (%s) was taken over by another worker", job.id, job.kind)
            return
        log.error("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempts, exc_info=exc)
        now = self.context.clock.now()
        fail(
            tx,
            job,
            error=f"{type(exc).__name__}: {exc}",
            now=now,
            retry_at=now + retry_backoff(job.attempts),
        )

    def start(self) -> None:
        """Run in a background thread until `stop`."""
        self._thread = threading.Thread(target=self._loop, name="fleetsim-worker", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:
                log.exception("the worker could not claim jobs; retrying")
                ran = 0
            if ran == 0:
                self._stop.wait(self.poll_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._pool.shutdown(wait=True)
        release_claims(self.context.engine, self.name)
