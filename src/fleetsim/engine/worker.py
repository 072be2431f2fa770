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
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock, SystemClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import is_sqlite
from fleetsim.db.store import Tx, run_together, transaction
from fleetsim.engine.jobs import ClaimedJob, LostClaim, claim_due, complete, fail, release_claims

__all__ = ["JobContext", "JobHandler", "Worker", "transactional"]

log = logging.getLogger("fleetsim.worker")


@dataclass(frozen=True)
class JobContext:
    engine: Engine
    clock: Clock
    sids: SidFactory


JobHandler = Callable[[JobContext, ClaimedJob], None]
TransactionalWork = Callable[[Session, JobContext, dict[str, object]], None]


class Transactional:
    """A handler whose effects and the job's completion commit together, or not at all;
    on SQLite, the worker runs a batch of them in one transaction (`Worker.run_once`)."""

    def __init__(self, work: TransactionalWork) -> None:
        self.work = work
        self.__name__ = work.__name__

    def __call__(self, context: JobContext, job: ClaimedJob) -> None:
        with transaction(context.engine, write=True) as tx:
            self.unit(context, job)(tx)

    def unit(self, context: JobContext, job: ClaimedJob) -> Callable[[Tx], None]:
        """The job's unit of work, in the transaction it is given."""

        def run(tx: Tx) -> None:
            self.work(tx.session, context, job.payload)
            complete(tx.session, job, now=context.clock.now())

        return run


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
        # SQLite has one writer: the jobs claimed together run in one transaction; elsewhere
        # each runs in a thread of its own. A claim takes `concurrency` jobs either way: a
        # larger batch holds SQLite's writer longer, and the API's writes wait behind it
        # (see `bench/api.py --cases sms`, creating SMS Commands while they are delivered).
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
        jobs = claim_due(
            self.context.engine,
            now=self.context.clock.now(),
            real_now=self.system_clock.now(),
            worker=self.name,
            lease=self.lease,
            limit=self.concurrency,
            job_id=job_id,
        )
        if self.sqlite and len(jobs) > 1:
            grouped = [
                job for job in jobs if isinstance(self.handlers.get(job.kind), Transactional)
            ]
            self._run_together(grouped)
            for job in jobs:
                if job not in grouped:
                    self._run(job)
        elif len(jobs) == 1:
            self._run(jobs[0])
        elif jobs:
            list(self._pool.map(self._run, jobs))
        return len(jobs)

    def _run_together(self, jobs: list[ClaimedJob]) -> None:
        """Run transactional jobs in one transaction, each in its savepoint."""
        units = []
        for job in jobs:
            handler = self.handlers[job.kind]
            assert isinstance(handler, Transactional)
            units.append(handler.unit(self.context, job))
        try:
            outcomes = run_together(self.context.engine, units, wait=True)
        except Exception as exc:  # the transaction itself failed: so did every job
            for job in jobs:
                self._failed(job, exc)
            return
        for job, outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome.error, Exception):
                self._failed(job, outcome.error)

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
            self._failed(job, exc)

    def _failed(self, job: ClaimedJob, exc: Exception) -> None:
        """Record that `job` raised `exc`: it is retried later, unless another worker
        took it over meanwhile."""
        if isinstance(exc, LostClaim):
            log.warning("job %s (%s) was taken over by another worker", job.id, job.kind)
            return
        log.error("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempts, exc_info=exc)
        now = self.context.clock.now()
        fail(
            self.context.engine,
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
