"""What an operator watches: request ids, an access log, Prometheus metrics, and health.

- Every request gets an id: the caller's `X-Request-Id` (if it is a sane token) or a new
  one; it is echoed in the response's `X-Request-Id` and carried by every log record made
  while the request runs (see `fleetsim.app.logs`).
- `/metrics` (Prometheus text format): requests and their latency per operation (the
  route's operation id, e.g. `ListFleet`), counted in this process; and, read from the
  database at scrape time (so the same on every node): the job queue by state, due jobs and
  the age of the oldest one, webhooks by state and delivery attempts by outcome.
- `/health`: 200 when the database answers, 503 otherwise.

Counters of requests are per process. Several processes behind one address (`serve
--workers N`) either each expose their own (scrape each), or share one view through
prometheus-client's multiprocess mode: set PROMETHEUS_MULTIPROC_DIR to an empty folder
before the server starts, and /metrics adds up every process's files.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleetsim.core.errors import InternalError
from fleetsim.db.tables import Job, Webhook, WebhookAttempt
from fleetsim.db.uow import unit_of_work
from fleetsim.http.runtime import Runtime

__all__ = [
    "INTERNAL_ERROR_MESSAGE",
    "REQUEST_ID",
    "RequestObservability",
    "current_request_id",
    "health",
    "metrics",
]

REQUEST_ID: ContextVar[str | None] = ContextVar("fleetsim_request_id", default=None)
_HEADER = b"x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "unmatched"  # no route: a 404 or 405 outside the API's paths
INTERNAL_ERROR_MESSAGE = "An internal error occurred; see the server log"

access_log = logging.getLogger("fleetsim.access")
log = logging.getLogger("fleetsim.http")

# One registry per process for what only this process sees (its requests).
HTTP_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "fleetsim_http_requests",
    "HTTP requests answered, by operation, method and status code.",
    ["operation", "method", "status"],
    registry=HTTP_REGISTRY,
)
LATENCY = Histogram(
    "fleetsim_http_request_duration_seconds",
    "Time to answer a request, by operation.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=HTTP_REGISTRY,
)


@functools.lru_cache(maxsize=4096)
def _instruments(operation: str, method: str, status: int) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one kind of request, looked up once
    (prometheus-client takes a lock on every `labels` call)."""
    return REQUESTS.labels(operation, method, str(status)), LATENCY.labels(operation)


# A request id is this process's random prefix and a count: unique like a UUID, without
# reading the system's randomness for every request.
_ID_PREFIX = uuid.uuid4().hex[:16]
_ID_COUNT = itertools.count(1)


def new_request_id() -> str:
    """32 hex digits, different for every request of every process."""
    return f"{_ID_PREFIX}{next(_ID_COUNT):016x}"


def current_request_id() -> str | None:
    """The id of the request being answered (None outside a request)."""
    return REQUEST_ID.get()


class RequestObservability:
    """ASGI middleware: the request id, the access log line, and the request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == _HEADER), b"")
        request_id = given.decode("latin-1") if given else new_request_id()
        if given and not _SANE_ID.match(request_id):
            request_id = new_request_id()
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                headers = [(k, v) for k, v in message.get("headers", []) if k != _HEADER]
                message = {**message, "headers": [*headers, (_HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if started_response:
                raise
            # Here, not in Starlette's outermost error handler, so that the log line and
            # the Twilio-style 500 carry the request's id.
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            body = InternalError(INTERNAL_ERROR_MESSAGE).body()
            await JSONResponse(body, status_code=500)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            operation = getattr(route, "name", None) or UNMATCHED
            count, latency = _instruments(operation, scope["method"], status)
            count.inc()
            latency.observe(elapsed)
            # The arguments cost as much as the rest of this block: build them only when
            # the line is written (the access log is off below --log-level info).
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s %.1fms",
                    scope["method"],
                    scope["path"],
                    status,
                    elapsed * 1000,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "operation": operation,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            REQUEST_ID.reset(token)


class DatabaseCollector(Collector):
    """Queue and webhook figures read from the database at scrape time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterable[Metric]:
        now = self.runtime.clock.now()
        with unit_of_work(self.runtime.engine, write=False) as session:
            jobs = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
            due_count, oldest_due = session.execute(
                select(func.count(), func.min(Job.due_at)).where(
                    Job.state == "pending", Job.due_at <= now
                )
            ).one()
            hooks = dict(
                session.execute(select(Webhook.state, func.count()).group_by(Webhook.state)).all()
            )
            outcome = case(
                (WebhookAttempt.status_code.is_(None), "network_error"),
                (WebhookAttempt.status_code.between(200, 299), "success"),
                else_="http_error",
            )
            attempts: dict[str, int] = dict(
                session.execute(select(outcome, func.count()).group_by(outcome)).all()
            )
        queue = GaugeMetricFamily("fleetsim_jobs", "Jobs by state.", labels=["state"])
        for state in ("pending", "running", "done", "dead"):
            queue.add_metric([state], jobs.get(state, 0))
        yield queue
        yield GaugeMetricFamily(
            "fleetsim_jobs_due", "Pending jobs due now (by the server clock).", value=due_count
        )
        age = (now - oldest_due).total_seconds() if oldest_due is not None else 0.0
        yield GaugeMetricFamily(
            "fleetsim_oldest_due_job_age_seconds",
            "How long the oldest due job has waited (0 when none is due).",
            value=age,
        )
        webhooks = GaugeMetricFamily("fleetsim_webhooks", "Webhooks by state.", labels=["state"])
        for state in ("pending", "delivered", "failed"):
            webhooks.add_metric([state], hooks.get(state, 0))
        yield webhooks
        tries = CounterMetricFamily(
            "fleetsim_webhook_attempts",
            "Webhook delivery attempts by outcome (a reset of the database restarts them).",
            labels=["outcome"],
        )
        for name in ("success", "http_error", "network_error"):
            tries.add_metric([name], attempts.get(name, 0))
        yield tries


def _exposition(runtime: Runtime) -> bytes:
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(runtime))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        return generate_latest(processes) + generate_latest(database)
    return generate_latest(HTTP_REGISTRY) + generate_latest(database)


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    body = await run_in_threadpool(_exposition, runtime)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


def _database_answers(runtime: Runtime) -> str | None:
    """None when the database answers a query, else what went wrong."""
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure is the answer: the database is not usable
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return None


async def health(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    problem = await run_in_threadpool(_database_answers, runtime)
    if problem is None:
        return JSONResponse({"status": "ok", "database": "ok"})
    body: dict[str, Any] = {"status": "unavailable", "database": problem}
    return JSONResponse(body, status_code=503)
