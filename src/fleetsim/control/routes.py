"""The control API over HTTP, under /control, for the operator credential only.

GET  /control/clock                         mode and time of the server clock
POST /control/clock/advance                 Seconds=… or To=…: run what falls due
POST /control/reset                         Accounts=keep|delete (default keep)
POST /control/sids/seed                     Seed=…: repeatable SIDs from now on
GET  /control/policies                      progression policy of every lifecycle
POST /control/policies/{Lifecycle}          Policy=immediate|delay|manual, Delay=seconds
POST /control/lifecycles/{Lifecycle}/{Sid}/progress   complete a pending step now
GET  /control/jobs                          queue depth by state
GET  /control/webhooks                      deliveries and attempts (State, AccountSid)
GET  /control/webhooks/{Id}                 one delivery with its attempts
POST /control/webhooks/{Id}/redeliver       deliver again now
POST /control/accounts/{AccountSid}/event-sink    Url=…: where the account's connection events go
DELETE /control/accounts/{AccountSid}/event-sink  stop sending them
POST /control/accounts/{AccountSid}/api-clients   Lifetime=1h|24h|30d|24mo, Name=…: a
                                                  KORE API client; its secret, once
GET  /control/accounts/{AccountSid}/api-clients   the account's API clients
DELETE /control/accounts/{AccountSid}/api-clients/{ClientId}   revoke one
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fleetsim.control.service import job_counts, reset_state
from fleetsim.core.dates import iso, iso_or_none
from fleetsim.core.errors import BadRequest, InvalidParameter, MissingParameter, NotFound
from fleetsim.core.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest
from fleetsim.db.tables import Account, Webhook, WebhookAttempt
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.advance import advance_clock
from fleetsim.engine.clock import SettableClock
from fleetsim.engine.jobs import pending_for
from fleetsim.engine.policies import LIFECYCLES, Policy, get_policy, set_policy
from fleetsim.engine.worker import Worker
from fleetsim.http.credentials import basic_credentials_of
from fleetsim.http.params import parse_pairs
from fleetsim.http.request import read_form
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls, page_meta
from fleetsim.network.events import set_event_sink
from fleetsim.resources.accounts.operator import authenticate_operator
from fleetsim.resources.accounts.service import fetch_account
from fleetsim.resources.api_clients.service import (
    DEFAULT_LIFETIME,
    create_api_client,
    list_api_clients,
    revoke_api_client,
)
from fleetsim.webhooks.service import fetch_webhook, list_attempts, list_webhooks, redeliver_webhook

__all__ = ["CONTROL_ROUTES"]


@dataclass
class ControlCall:
    runtime: Runtime
    method: str
    params: dict[str, str]
    path: dict[str, str]
    urls: Urls

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        with unit_of_work(self.runtime.engine, write=write) as session:
            yield session

    @property
    def worker(self) -> Worker:
        assert self.runtime.worker is not None, "the control API needs an inline worker"
        return self.runtime.worker

    @property
    def settable_clock(self) -> SettableClock:
        clock = self.runtime.clock
        if not hasattr(clock, "set"):
            raise BadRequest("The server clock is real; start the server with --clock manual")
        return clock  # type: ignore[return-value]


ControlHandler = Callable[[ControlCall], dict[str, Any]]


def control_endpoint(handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        username, password = basic_credentials_of(request.headers.get("authorization", ""))
        pairs = parse_pairs(request.scope.get("query_string", b""))
        if request.method == "POST":
            pairs += await read_form(request, runtime.max_body_bytes)
        params: dict[str, str] = {}
        for name, value in pairs:
            if name in params:
                raise InvalidParameter(name, "given more than once")
            if "\x00" in value:
                raise InvalidParameter(name, "must not contain NUL characters")
            params[name] = value
        call = ControlCall(
            runtime,
            request.method,
            params,
            dict(request.path_params),
            Urls.for_request(request, runtime.public_url),
        )

        def work() -> dict[str, Any]:
            with call.session(write=False) as session:
                authenticate_operator(session, username, password)
            if any("\x00" in value for value in call.path.values()):
                # PostgreSQL refuses NUL in a query, and nothing the control API names holds it.
                raise NotFound(request.url.path.replace("\x00", "%00"))
            return handler(call)

        return JSONResponse(await run_in_threadpool(work))

    route.__name__ = handler.__name__
    return route


def _number(call: ControlCall, name: str) -> float | None:
    raw = call.params.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter(name, "must be a number") from None
    if not 0 <= value <= 10 * 366 * 86400:
        raise InvalidParameter(name, "must be between 0 and ten years of seconds")
    return value


def _whole(call: ControlCall, name: str, default: int, *, low: int, high: int) -> int:
    raw = call.params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and low <= int(raw) <= high):
        raise InvalidParameter(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def _clock_body(call: ControlCall) -> dict[str, Any]:
    # The node's clock was chosen from the database's mode at start: it is the answer.
    mode = "manual" if hasattr(call.runtime.clock, "set") else "real"
    return {"mode": mode, "now": iso(call.runtime.clock.now())}


@control_endpoint
def get_clock(call: ControlCall) -> dict[str, Any]:
    return _clock_body(call)


@control_endpoint
def advance(call: ControlCall) -> dict[str, Any]:
    clock = call.settable_clock
    seconds = _number(call, "Seconds")
    to = call.params.get("To")
    if (seconds is None) == (to is None):
        raise BadRequest("Give exactly one of Seconds (to move by) or To (a time to move to)")
    if to is not None:
        try:
            target = dt.datetime.fromisoformat(to.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidParameter(
                "To", "must be an ISO 8601 time such as 2026-01-01T00:00:00Z"
            ) from None
        if target.tzinfo is None:
            target = target.replace(tzinfo=dt.UTC)
    else:
        target = clock.now() + dt.timedelta(seconds=seconds or 0)
    if target < clock.now():
        raise InvalidParameter("To", "is in the past of the server clock, which never moves back")
    result = advance_clock(clock, call.worker, target)
    return {**_clock_body(call), "jobs_run": result.jobs_run}


@control_endpoint
def reset(call: ControlCall) -> dict[str, Any]:
    accounts = call.params.get("Accounts", "keep")
    if accounts not in ("keep", "delete"):
        raise InvalidParameter("Accounts", "must be keep or delete")
    with call.session(write=True) as session:
        reset_state(session, keep_accounts=accounts == "keep")
    call.runtime.after_reset()
    return {"reset": True, "accounts": accounts}


@control_endpoint
def seed_sids(call: ControlCall) -> dict[str, Any]:
    raw = call.params.get("Seed")
    if raw is None:
        raise MissingParameter("Seed")
    try:
        seed = int(raw)
    except ValueError:
        raise InvalidParameter("Seed", "must be an integer") from None
    call.runtime.sids.reseed(seed)
    return {"seed": seed}


def _policy_body(policy: Policy) -> dict[str, Any]:
    return {
        "lifecycle": policy.lifecycle,
        "policy": policy.policy,
        "delay_seconds": policy.delay_seconds,
    }


@control_endpoint
def list_policies(call: ControlCall) -> dict[str, Any]:
    with call.session(write=False) as session:
        return {
            "policies": [_policy_body(get_policy(session, name)) for name in sorted(LIFECYCLES)]
        }


@control_endpoint
def update_policy(call: ControlCall) -> dict[str, Any]:
    policy = call.params.get("Policy")
    if policy is None:
        raise MissingParameter("Policy")
    with call.session(write=True) as session:
        return _policy_body(
            set_policy(session, call.path["Lifecycle"], policy, _number(call, "Delay"))
        )


@control_endpoint
def progress(call: ControlCall) -> dict[str, Any]:
    lifecycle, sid = call.path["Lifecycle"], call.path["Sid"]
    with call.session(write=False) as session:
        get_policy(session, lifecycle)  # refuses unknown lifecycles
        job_ids = [job.id for job in pending_for(session, sid)]
    if not job_ids:
        raise NotFound(f"/control/lifecycles/{lifecycle}/{sid} (nothing is pending)")
    ran = sum(call.worker.run_once(job_id=job_id) for job_id in job_ids)
    ran += call.worker.run_until_idle()
    return {"jobs_run": ran}


@control_endpoint
def jobs(call: ControlCall) -> dict[str, Any]:
    with call.session(write=False) as session:
        return {"jobs": job_counts(session)}


def _webhook_body(
    webhook: Webhook, account_sid: str, attempts: list[WebhookAttempt]
) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "account_sid": account_sid,
        "kind": webhook.kind,
        "subject": webhook.subject,
        "url": webhook.url,
        "method": webhook.method,
        "state": webhook.state,
        "attempts": [
            {
                "number": a.number,
                "attempted_at": iso(a.attempted_at),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
            }
            for a in attempts
        ],
        "date_created": iso(webhook.created_at),
        "next_attempt_at": iso_or_none(webhook.next_attempt_at),
        "delivered_at": iso_or_none(webhook.delivered_at),
    }


def _account_sids(session: Session, ids: set[int]) -> dict[int, str]:
    # A list of rows, not the Result: dict() would read a Result through its keys().
    return dict(session.execute(select(Account.id, Account.sid).where(Account.id.in_(ids))).all())


@control_endpoint
def webhooks(call: ControlCall) -> dict[str, Any]:
    request = PageRequest(
        _whole(call, "PageSize", DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE),
        _whole(call, "Page", 0, low=0, high=2**31 - 1),
        call.params.get("PageToken"),
    )
    with call.session(write=False) as session:
        account_id = None
        if "AccountSid" in call.params:
            account_id = (
                session.execute(
                    select(Account.id).where(Account.sid == call.params["AccountSid"])
                ).scalar_one_or_none()
                or -1
            )
        page = list_webhooks(
            session, state=call.params.get("State"), account_id=account_id, page=request
        )
        attempts = list_attempts(session, [w.id for w in page.items])
        sids = _account_sids(session, {w.account_id for w in page.items})
        filters = [(k, v) for k, v in call.params.items() if k in ("State", "AccountSid")]
        return {
            "webhooks": [_webhook_body(w, sids[w.account_id], attempts[w.id]) for w in page.items],
            "meta": page_meta(call.urls, "/control/webhooks", "webhooks", filters, request, page),
        }


def _webhook_id(call: ControlCall) -> int:
    raw = call.path["Id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"/control/webhooks/{raw}")
    return int(raw)


@control_endpoint
def webhook(call: ControlCall) -> dict[str, Any]:
    with call.session(write=False) as session:
        row = fetch_webhook(session, _webhook_id(call))
        sids = _account_sids(session, {row.account_id})
        return _webhook_body(row, sids[row.account_id], list_attempts(session, [row.id])[row.id])


@control_endpoint
def redeliver(call: ControlCall) -> dict[str, Any]:
    with call.session(write=True) as session:
        row = redeliver_webhook(session, _webhook_id(call), now=call.runtime.clock.now())
        webhook_id = row.id
    call.worker.run_until_idle()
    with call.session(write=False) as session:
        row = fetch_webhook(session, webhook_id)
        sids = _account_sids(session, {row.account_id})
        return _webhook_body(row, sids[row.account_id], list_attempts(session, [row.id])[row.id])


def _account_id(session: Session, sid: str) -> int:
    account_id = session.execute(select(Account.id).where(Account.sid == sid)).scalar_one_or_none()
    if account_id is None:
        raise NotFound(f"/control/accounts/{sid}")
    return account_id


@control_endpoint
def event_sink(call: ControlCall) -> dict[str, Any]:
    sid = call.path["AccountSid"]
    url = None
    if call.method == "POST":
        url = call.params.get("Url")
        if url is None:
            raise MissingParameter("Url")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidParameter("Url", "must be an absolute http or https URL")
    with call.session(write=True) as session:
        set_event_sink(session, _account_id(session, sid), url, now=call.runtime.clock.now())
    return {"account_sid": sid, "event_sink_url": url}


def _api_client_body(client_id: str, name: str, account_sid: str, seconds: int) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "name": name,
        "account_sid": account_sid,
        "lifetime_seconds": seconds,
    }


@control_endpoint
def api_clients(call: ControlCall) -> dict[str, Any]:
    with call.session(write=call.method == "POST") as session:
        account = fetch_account(session, call.path["AccountSid"])
        if call.method == "POST":
            created = create_api_client(
                session,
                account,
                name=call.params.get("Name"),
                lifetime=call.params.get("Lifetime", DEFAULT_LIFETIME),
                clock=call.runtime.clock,
                sids=call.runtime.sids,
            )
            client = created.client
            body = _api_client_body(
                client.client_id, client.name, account.sid, client.lifetime_seconds
            )
            return {**body, "client_secret": created.secret}
        clients, count = list_api_clients(session, account, number=1, size=MAX_PAGE_SIZE)
        return {
            "api_clients": [
                _api_client_body(c.client_id, c.name, account.sid, c.lifetime_seconds)
                for c in clients
            ],
            "count": count,
        }


@control_endpoint
def api_client(call: ControlCall) -> dict[str, Any]:
    with call.session(write=True) as session:
        account = fetch_account(session, call.path["AccountSid"])
        revoke_api_client(session, account, call.path["ClientId"])
    return {"client_id": call.path["ClientId"], "revoked": True}


CONTROL_ROUTES = [
    Route("/control/clock", get_clock, methods=["GET"], name="control:clock"),
    Route("/control/clock/advance", advance, methods=["POST"], name="control:advance"),
    Route("/control/reset", reset, methods=["POST"], name="control:reset"),
    Route("/control/sids/seed", seed_sids, methods=["POST"], name="control:seed"),
    Route("/control/policies", list_policies, methods=["GET"], name="control:policies"),
    Route("/control/policies/{Lifecycle}", update_policy, methods=["POST"], name="control:policy"),
    Route(
        "/control/lifecycles/{Lifecycle}/{Sid}/progress",
        progress,
        methods=["POST"],
        name="control:progress",
    ),
    Route("/control/jobs", jobs, methods=["GET"], name="control:jobs"),
    Route("/control/webhooks", webhooks, methods=["GET"], name="control:webhooks"),
    Route("/control/webhooks/{Id}", webhook, methods=["GET"], name="control:webhook"),
    Route(
        "/control/webhooks/{Id}/redeliver", redeliver, methods=["POST"], name="control:redeliver"
    ),
    Route(
        "/control/accounts/{AccountSid}/event-sink",
        event_sink,
        methods=["POST", "DELETE"],
        name="control:event-sink",
    ),
    Route(
        "/control/accounts/{AccountSid}/api-clients",
        api_clients,
        methods=["GET", "POST"],
        name="control:api-clients",
    ),
    Route(
        "/control/accounts/{AccountSid}/api-clients/{ClientId}",
        api_client,
        methods=["DELETE"],
        name="control:api-client",
    ),
]
