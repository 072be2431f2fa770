"""Queue a webhook, deliver it, retry it, list and re-deliver deliveries.

Signing: every callback carries `X-Twilio-Signature`. An account that uses KORE's dialect
(it has an API client or a webhook secret) gets KORE's headers too: `kore-signature` by its
active webhook secret at the time of each attempt (so a rotation signs every later
attempt), `kore-idempotency-token`, and `User-Agent: KoreProxy/1.1`.

Deviation: whether KORE still sends `X-Twilio-Signature` is not documented; fleetsim sends
it in both dialects, so a receiver validating Twilio's signature keeps working while it
moves to KORE's.

Delivery: the worker sends the request outside any transaction, then records the attempt.
A 2xx answer delivers it; anything else (another status, a timeout, a refused connection)
is retried with exponential backoff and jitter: 10 s, 20 s, 40 s, 80 s, 160 s later
(each ±20 %), for at most `MAX_ATTEMPTS` attempts. The jitter is derived from the
delivery's id and attempt number, so the schedule is repeatable under a manual clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetsim.core.errors import NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.secret_key import token_box
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, Job, Webhook, WebhookAttempt
from fleetsim.db.units import transaction
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.jobs import ClaimedJob, complete, job_values, reschedule
from fleetsim.engine.worker import JobContext, JobHandler
from fleetsim.webhooks.secrets import active_secret, uses_kore_dialect
from fleetsim.webhooks.signing import (
    KORE_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    kore_signature,
    signature,
)
from fleetsim.webhooks.transport import WebhookTransport

__all__ = [
    "DELIVER",
    "MAX_ATTEMPTS",
    "deliver_webhook",
    "enqueue_webhook",
    "fetch_webhook",
    "find_account_webhook",
    "list_attempts",
    "list_webhooks",
    "redeliver_webhook",
    "retry_delay",
    "webhook_deliverer",
]

DELIVER = "webhook.deliver"
MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 10.0
USER_AGENT = "fleetsim-webhooks/1.0"
KORE_USER_AGENT = "KoreProxy/1.1"


def retry_delay(webhook_id: int, attempt: int) -> dt.timedelta:
    """Wait after failed attempt number `attempt` (1-based) of delivery `webhook_id`."""
    digest = hashlib.sha256(f"{webhook_id}:{attempt}".encode()).digest()
    jitter = 0.8 + 0.4 * int.from_bytes(digest[:4], "big") / 2**32
    return dt.timedelta(seconds=round(BASE_DELAY_SECONDS * 2 ** (attempt - 1) * jitter, 3))


def enqueue_webhook(
    tx: Tx,
    account: Account | int,
    *,
    kind: str,
    url: str,
    method: str,
    params: Sequence[tuple[str, str]],
    subject: str | None,
    now: dt.datetime,
    json_body: str | None = None,
) -> None:
    """Add a delivery (and the job that makes it) to the caller's transaction. A
    `json_body` is sent as JSON (POST) instead of the form `params`."""
    webhook = tx.insert(
        Webhook,
        {
            "account_id": account if isinstance(account, int) else account.id,
            "kind": kind,
            "subject": subject,
            "url": url,
            "method": method,
            "params": json.dumps([list(p) for p in params]),
            "json_body": json_body,
            "state": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    _schedule_delivery(tx, webhook.id, now)


def _schedule_delivery(tx: Tx, webhook_id: int, now: dt.datetime) -> None:
    values = job_values(
        DELIVER,
        {"webhook_id": webhook_id},
        due_at=now,
        now=now,
        subject=f"webhook:{webhook_id}",
        # Retries are the delivery's own business (see `deliver_webhook`); the job's
        # limit only catches a delivery that keeps crashing.
        max_attempts=MAX_ATTEMPTS * 4,
    )
    tx.insert_many(Job, [values])


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass(frozen=True)
class Signer:
    """What signs an account's callbacks: its auth token, and in KORE's dialect its
    active webhook secret (None: an empty `kore-signature`)."""

    auth_token: str
    kore: bool = False
    kore_secret: str | None = None


def build_request(webhook: Webhook, signer: Signer) -> _Request:
    """The signed HTTP request for a delivery (see the module's docstring for KORE's
    headers)."""
    request = _twilio_request(webhook, signer.auth_token)
    if not signer.kore:
        return request
    headers = {
        **request.headers,
        "User-Agent": KORE_USER_AGENT,
        "kore-idempotency-token": f"fleetsim-{webhook.id}",
        KORE_SIGNATURE_HEADER: kore_signature(
            signer.kore_secret, request.method, request.url, request.body or b""
        ),
    }
    return _Request(request.method, request.url, headers, request.body)


def _twilio_request(webhook: Webhook, auth_token: str) -> _Request:
    """Form body for POST, query for GET, and for JSON bodies Twilio's convention:
    `bodySHA256=<hex>` added to the URL, which alone is signed."""
    params = [(str(k), str(v)) for k, v in json.loads(webhook.params)]
    headers = {"User-Agent": USER_AGENT, "I-Twilio-Idempotency-Token": f"fleetsim-{webhook.id}"}
    if webhook.json_body is not None:
        body = webhook.json_body.encode()
        digest = hashlib.sha256(body).hexdigest()
        url = webhook.url + ("&" if "?" in webhook.url else "?") + f"bodySHA256={digest}"
        headers["Content-Type"] = "application/json"
        headers[SIGNATURE_HEADER] = signature(auth_token, url, [])
        return _Request("POST", url, headers, body)
    if webhook.method == "GET":
        url = webhook.url + ("&" if "?" in webhook.url else "?") + urlencode(params)
        headers[SIGNATURE_HEADER] = signature(auth_token, url, [])
        return _Request("GET", url, headers, None)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers[SIGNATURE_HEADER] = signature(auth_token, webhook.url, params)
    return _Request("POST", webhook.url, headers, urlencode(params).encode())


def webhook_deliverer(transport: WebhookTransport) -> JobHandler:
    """The handler of `DELIVER` jobs, sending through `transport`."""

    def deliver(context: JobContext, job: ClaimedJob) -> None:
        deliver_webhook(context, job, transport)

    return deliver


def deliver_webhook(context: JobContext, job: ClaimedJob, transport: WebhookTransport) -> None:
    """Make one delivery attempt and record it; schedule the next one if it failed."""
    webhook_id = int(str(job.payload["webhook_id"]))
    with unit_of_work(context.engine, write=False) as session:
        row = session.execute(
            select(Webhook, Account)
            .join(Account, Account.id == Webhook.account_id)
            .where(Webhook.id == webhook_id)
        ).one_or_none()
        request = None
        if row is not None and row[0].state == "pending":
            pending, owner = row
            auth_token = token_box(session).open(owner.sealed_auth_token, account_sid=owner.sid)
            kore = uses_kore_dialect(session, owner.id)
            secret = active_secret(session, owner.id) if kore else None
            request = build_request(pending, Signer(auth_token, kore, secret))
    attempted_at = context.clock.now()
    result = (
        transport.send(request.method, request.url, request.headers, request.body)
        if request is not None
        else None
    )
    with transaction(context.engine, write=True) as tx:
        session = tx.session
        webhook = session.get(Webhook, webhook_id)
        if webhook is None or result is None or webhook.state != "pending":
            complete(tx, job, now=attempted_at)
            return
        webhook.attempts += 1
        session.add(
            WebhookAttempt(
                webhook_id=webhook.id,
                number=webhook.attempts,
                attempted_at=attempted_at,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                error=result.error,
                response_excerpt=result.body_excerpt,
            )
        )
        webhook.last_status_code = result.status_code
        if result.ok:
            webhook.state = "delivered"
            webhook.delivered_at = attempted_at
            webhook.next_attempt_at = None
        elif webhook.attempts >= MAX_ATTEMPTS:
            webhook.state = "failed"
            webhook.next_attempt_at = None
        else:
            retry_at = attempted_at + retry_delay(webhook.id, webhook.attempts)
            webhook.next_attempt_at = retry_at
            reschedule(tx, job, due_at=retry_at, error=result.error or f"HTTP {result.status_code}")
            return
        complete(tx, job, now=attempted_at)


def fetch_webhook(session: Session, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"/control/webhooks/{webhook_id}")
    return webhook


def find_account_webhook(session: Session, account_id: int, webhook_id: int) -> Webhook | None:
    """The delivery if it is the account's (the console shows an account only its own)."""
    webhook = session.get(Webhook, webhook_id)
    return webhook if webhook is not None and webhook.account_id == account_id else None


def list_webhooks(
    session: Session,
    *,
    state: str | None,
    account_id: int | None,
    page: PageRequest,
    newest_first: bool = False,
) -> Page[Webhook]:
    query = select(Webhook)
    if state is not None:
        query = query.where(Webhook.state == state)
    if account_id is not None:
        query = query.where(Webhook.account_id == account_id)
    return fetch_page(session, query, Webhook.id, page, descending=newest_first)


def list_attempts(session: Session, webhook_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    attempts: dict[int, list[WebhookAttempt]] = {i: [] for i in webhook_ids}
    rows = session.execute(
        select(WebhookAttempt)
        .where(WebhookAttempt.webhook_id.in_(webhook_ids))
        .order_by(WebhookAttempt.webhook_id, WebhookAttempt.number)
    ).scalars()
    for attempt in rows:
        attempts[attempt.webhook_id].append(attempt)
    return attempts


def redeliver_webhook(session: Session, webhook_id: int, *, now: dt.datetime) -> Webhook:
    """Deliver again, now, whatever happened before; attempts keep counting."""
    webhook = fetch_webhook(session, webhook_id)
    if webhook.state == "pending":
        return webhook  # already on its way
    webhook.state = "pending"
    webhook.next_attempt_at = now
    webhook.delivered_at = None
    _schedule_delivery(Tx.of(session), webhook.id, now)
    return webhook
