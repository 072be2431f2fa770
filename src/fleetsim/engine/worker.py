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
from fleetsim.db.uow import unit_of_work
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


def transactional(work: TransactionalWork) -> JobHandler:
    """A handler whose effects and the job's completion commit together, or not at all."""

    def handler(context: JobContext, job: ClaimedJob) -> None:
        with unit_of_work(context.engine, write=True) as session:
            work(session, context, job.payload)
            complete(session, job, now=context.clock.now())

    handler.__name__ = work.__name__
    return handler


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
        if len(jobs) == 1:
            self._run(jobs[0])
        elif jobs:
            list(self._pool.map(self._run, jobs))
        return len(jobs)

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
        except LostClaim:
            log.warning("job %s (%s) was taken over by another worker", job.id, job.kind)
        except Exception as exc:
            log.exception("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempts)
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
