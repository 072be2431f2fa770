"""Sim update callbacks over real HTTP: signed as Twilio signs, retried on the manual clock
with backoff, recorded attempt by attempt, listed and re-delivered through the control API.

The app runs in-process with a frozen clock; the control API advances it and runs what
falls due inline, so every delivery happens at a known server time. Callbacks go to a
real HTTP receiver on 127.0.0.1 (`tests.support.receiver`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from fleetsim.core.dates import iso
from fleetsim.db.tables import WebhookAttempt
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.policies import LIFECYCLES
from fleetsim.resources.accounts.operator import OPERATOR
from fleetsim.webhooks.service import MAX_ATTEMPTS, retry_delay
from tests.api.conftest import OPERATOR_TOKEN, Api, Credentials, assert_error
from tests.api.sim_helpers import new_fleet, register_many
from tests.support.receiver import Hang, Receiver, Reply
from tests.support.server import free_port

# A scheduled update completes this long after it is asked for (the default `sim` policy).
COMPLETION = dt.timedelta(seconds=LIFECYCLES["sim"])
# Long enough for every retry of a delivery to fall due (5 waits of at most 1.2 * 160 s).
ALL_RETRIES = dt.timedelta(hours=1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


# --- helpers ---------------------------------------------------------------------------


def control(api: Api, method: str, path: str, **params: str) -> dict[str, Any]:
    """A control API call with the operator credential; it must answer 200."""
    response = api.control(
        method,
        path,
        data=params if method == "POST" else None,
        params=params if method == "GET" else None,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def advance_to(api: Api, when: dt.datetime) -> None:
    """Move the server clock to `when`, running everything that falls due on the way."""
    body = control(api, "POST", "/control/clock/advance", To=when.isoformat())
    assert api.clock.now() == when, body


def advance(api: Api, delta: dt.timedelta) -> None:
    advance_to(api, api.clock.now() + delta)


def activate(
    api: Api,
    callback_url: str,
    *,
    method: str | None = None,
    unique_name: str | None = None,
    as_: Credentials | None = None,
) -> dict[str, Any]:
    """A new Sim asked to become active in a new Fleet, with a callback: 202, scheduled."""
    (sim,) = register_many(api, 1, as_)
    data = {"Status": "active", "Fleet": new_fleet(api, as_=as_), "CallbackUrl": callback_url}
    if method is not None:
        data["CallbackMethod"] = method
    if unique_name is not None:
        data["UniqueName"] = unique_name
    response = api.post(f"/v1/Sims/{sim['sid']}", data=data, as_=as_)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "scheduled"
    return body


def deliveries(api: Api, **filters: str) -> list[dict[str, Any]]:
    body = control(api, "GET", "/control/webhooks", PageSize="1000", **filters)
    items: list[dict[str, Any]] = body["webhooks"]
    return items


def delivery_for(api: Api, sim_sid: str) -> dict[str, Any]:
    """The one delivery made for `sim_sid`, as GET /control/webhooks/{Id} shows it."""
    (found,) = [w for w in deliveries(api) if w["subject"] == sim_sid]
    return control(api, "GET", f"/control/webhooks/{found['id']}")


def attempt_times(api: Api, webhook_id: int) -> list[dt.datetime]:
    """Attempt times as stored (the control API shows them to the second)."""
    with unit_of_work(api.engine, write=False) as session:
        return list(
            session.execute(
                select(WebhookAttempt.attempted_at)
                .where(WebhookAttempt.webhook_id == webhook_id)
                .order_by(WebhookAttempt.number)
            ).scalars()
        )


def schedule_from(webhook_id: int, start: dt.datetime, attempts: int) -> list[dt.datetime]:
    """When attempts 1..`attempts` are due: `start`, then each retry's delay later."""
    times = [start]
    for number in range(1, attempts):
        times.append(times[-1] + retry_delay(webhook_id, number))
    return times


# --- signing -----------------------------------------------------------------------------


def test_post_callback_is_signed_and_carries_the_sim(api: Api, receiver: Receiver) -> None:
    url = receiver.url("/hooks/sim?source=fleetsim")  # the query is part of what is signed
    sim = activate(api, url, unique_name="tracker-1")
    completed_at = api.clock.now() + COMPLETION

    advance(api, COMPLETION - dt.timedelta(seconds=1))
    assert receiver.requests == [], "the callback waits for the update to complete"
    advance_to(api, completed_at)

    (request,) = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/hooks/sim?source=fleetsim")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    active = api.get(f"/v1/Sims/{sim['sid']}").json()
    assert active["status"] == "active"
    assert request.form == {
        "AccountSid": api.creds.account_sid,
        "SimSid": sim["sid"],
        "SimUniqueName": "tracker-1",
        "SimIccid": sim["iccid"],
        "Status": "active",
        "FleetSid": active["fleet_sid"],
        "DateUpdated": iso(completed_at),
    }
    assert active["date_updated"] == iso(completed_at)

    validator = RequestValidator(api.creds.password)
    assert validator.validate(url, request.form, request.signature)
    assert not validator.validate(url, {**request.form, "Status": "inactive"}, request.signature)
    assert not validator.validate(receiver.url("/hooks/sim"), request.form, request.signature)
    assert not RequestValidator("0" * 32).validate(url, request.form, request.signature)

    webhook = delivery_for(api, sim["sid"])
    assert webhook["state"] == "delivered"
    assert request.headers["i-twilio-idempotency-token"] == f"fleetsim-{webhook['id']}"
    assert (webhook["url"], webhook["method"]) == (url, "POST")
    assert webhook["account_sid"] == api.creds.account_sid
    assert webhook["delivered_at"] == iso(completed_at)


def test_get_callback_carries_the_params_in_the_query(api: Api, receiver: Receiver) -> None:
    sim = activate(api, receiver.url("/hooks/get"), method="GET")
    advance(api, COMPLETION)

    (request,) = receiver.wait_for(1)
    assert request.method == "GET"
    assert request.body == b""
    assert request.query["SimSid"] == sim["sid"]
    assert request.query["Status"] == "active"
    assert request.query["SimUniqueName"] == ""
    assert "content-type" not in request.headers

    validator = RequestValidator(api.creds.password)
    assert validator.validate(request.url, {}, request.signature)
    tampered = request.url.replace("Status=active", "Status=inactive")
    assert tampered != request.url
    assert not validator.validate(tampered, {}, request.signature)
    assert not validator.validate(receiver.url("/hooks/get"), request.query, request.signature)
    assert delivery_for(api, sim["sid"])["state"] == "delivered"


def test_an_update_that_completes_at_once_does_not_call_back(api: Api, receiver: Receiver) -> None:
    (sim,) = register_many(api, 1)
    data = {"Fleet": new_fleet(api), "CallbackUrl": receiver.url()}
    response = api.post(f"/v1/Sims/{sim['sid']}", data=data)
    assert response.status_code == 200, response.text
    advance(api, ALL_RETRIES)
    assert receiver.requests == []
    assert deliveries(api) == []


# --- retries -------------------------------------------------------------------------------


def test_retries_follow_the_backoff_schedule_until_delivered(api: Api, receiver: Receiver) -> None:
    # The first answer comes late, so that its latency shows.
    receiver.script(Hang(0.3, then=Reply(500)), 500, 200)
    sim = activate(api, receiver.url())
    t0 = api.clock.now() + COMPLETION
    advance_to(api, t0)
    webhook_id = delivery_for(api, sim["sid"])["id"]
    due = schedule_from(webhook_id, t0, 3)
    assert due[1] - due[0] == retry_delay(webhook_id, 1)

    pending = control(api, "GET", f"/control/webhooks/{webhook_id}")
    assert pending["state"] == "pending"
    assert pending["next_attempt_at"] == iso(due[1])

    # Not a moment before each retry is due.
    for number in (1, 2):
        advance_to(api, due[number] - dt.timedelta(milliseconds=1))
        assert len(receiver.requests) == number
        advance_to(api, due[number])
        assert len(receiver.wait_for(number + 1)) == number + 1

    advance(api, ALL_RETRIES)
    webhook = control(api, "GET", f"/control/webhooks/{webhook_id}")
    assert webhook["state"] == "delivered"
    assert webhook["delivered_at"] == iso(due[2])
    assert webhook["next_attempt_at"] is None
    attempts = webhook["attempts"]
    assert [a["number"] for a in attempts] == [1, 2, 3]
    assert [a["attempted_at"] for a in attempts] == [iso(t) for t in due]
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert [a["error"] for a in attempts] == [None, None, None]
    assert all(isinstance(a["latency_ms"], int) and a["latency_ms"] >= 0 for a in attempts)
    assert attempts[0]["latency_ms"] >= 300
    assert attempt_times(api, webhook_id) == due

    requests = receiver.requests
    assert len(requests) == 3
    # Every attempt is the same request: same body, signature and idempotency token.
    assert len({(r.path, r.body, r.signature) for r in requests}) == 1
    assert {r.headers["i-twilio-idempotency-token"] for r in requests} == {f"fleetsim-{webhook_id}"}


def test_a_receiver_that_always_fails_ends_failed(api: Api, receiver: Receiver) -> None:
    receiver.script(default=503)
    sim = activate(api, receiver.url())
    t0 = api.clock.now() + COMPLETION
    advance(api, ALL_RETRIES)
    webhook = delivery_for(api, sim["sid"])

    assert webhook["state"] == "failed"
    assert (webhook["next_attempt_at"], webhook["delivered_at"]) == (None, None)
    assert [a["status_code"] for a in webhook["attempts"]] == [503] * MAX_ATTEMPTS
    due = schedule_from(webhook["id"], t0, MAX_ATTEMPTS)
    assert attempt_times(api, webhook["id"]) == due
    assert len(receiver.requests) == MAX_ATTEMPTS

    advance(api, ALL_RETRIES)
    assert len(receiver.requests) == MAX_ATTEMPTS, "a failed delivery is not tried again"


def test_a_refused_connection_records_an_error_and_no_status(api: Api) -> None:
    sim = activate(api, f"http://127.0.0.1:{free_port()}/closed")
    t0 = api.clock.now() + COMPLETION
    advance_to(api, t0)
    webhook = delivery_for(api, sim["sid"])
    (attempt,) = webhook["attempts"]

    assert attempt["status_code"] is None
    assert isinstance(attempt["error"], str)
    assert "ConnectError" in attempt["error"]
    assert attempt["attempted_at"] == iso(t0)
    assert webhook["state"] == "pending"
    assert webhook["next_attempt_at"] == iso(t0 + retry_delay(webhook["id"], 1))

    advance(api, ALL_RETRIES)
    webhook = delivery_for(api, sim["sid"])
    assert webhook["state"] == "failed"
    assert [a["status_code"] for a in webhook["attempts"]] == [None] * MAX_ATTEMPTS
    assert all(a["error"] for a in webhook["attempts"])


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(api: Api, receiver: Receiver) -> None:
    receiver.script(Reply(302, headers=[("Location", receiver.url("/elsewhere"))]))
    sim = activate(api, receiver.url("/hooks"))
    t0 = api.clock.now() + COMPLETION
    advance_to(api, t0)

    assert [r.path for r in receiver.wait_for(1)] == ["/hooks"]
    webhook = delivery_for(api, sim["sid"])
    assert webhook["state"] == "pending"
    assert [(a["status_code"], a["error"]) for a in webhook["attempts"]] == [(302, None)]

    advance(api, ALL_RETRIES)
    assert [r.path for r in receiver.requests] == ["/hooks", "/hooks"]
    webhook = delivery_for(api, sim["sid"])
    assert webhook["state"] == "delivered"
    assert [a["status_code"] for a in webhook["attempts"]] == [302, 200]


# --- redelivery ------------------------------------------------------------------------------


def test_redeliver_tries_a_failed_delivery_once_more_and_resends_a_delivered_one(
    api: Api, receiver: Receiver
) -> None:
    receiver.script(*[500] * MAX_ATTEMPTS)
    sim = activate(api, receiver.url())
    advance(api, ALL_RETRIES)
    webhook_id = delivery_for(api, sim["sid"])["id"]
    assert delivery_for(api, sim["sid"])["state"] == "failed"

    now = api.clock.now()
    redelivered = control(api, "POST", f"/control/webhooks/{webhook_id}/redeliver")
    assert redelivered["state"] == "delivered"
    assert len(redelivered["attempts"]) == MAX_ATTEMPTS + 1
    assert redelivered["attempts"][-1]["status_code"] == 200
    assert redelivered["attempts"][-1]["attempted_at"] == iso(now)
    assert redelivered["delivered_at"] == iso(now)
    assert len(receiver.wait_for(MAX_ATTEMPTS + 1)) == MAX_ATTEMPTS + 1

    advance(api, dt.timedelta(minutes=5))
    again = control(api, "POST", f"/control/webhooks/{webhook_id}/redeliver")
    assert again["state"] == "delivered"
    assert [a["status_code"] for a in again["attempts"][-2:]] == [200, 200]
    assert again["delivered_at"] == iso(api.clock.now())
    requests = receiver.wait_for(MAX_ATTEMPTS + 2)
    assert requests[-1].body == requests[0].body
    assert requests[-1].signature == requests[0].signature

    advance(api, ALL_RETRIES)
    assert len(receiver.requests) == MAX_ATTEMPTS + 2, "a redelivery is one request"


def test_redeliver_a_failed_delivery_that_fails_again_makes_one_attempt(api: Api) -> None:
    sim = activate(api, f"http://127.0.0.1:{free_port()}/closed")
    advance(api, ALL_RETRIES)
    webhook_id = delivery_for(api, sim["sid"])["id"]

    redelivered = control(api, "POST", f"/control/webhooks/{webhook_id}/redeliver")
    assert redelivered["state"] == "failed"
    assert len(redelivered["attempts"]) == MAX_ATTEMPTS + 1
    assert redelivered["next_attempt_at"] is None
    advance(api, ALL_RETRIES)
    assert len(delivery_for(api, sim["sid"])["attempts"]) == MAX_ATTEMPTS + 1


def test_the_control_api_refuses_unknown_deliveries_and_other_credentials(api: Api) -> None:
    for path in ("/control/webhooks/999999", "/control/webhooks/not-a-number"):
        assert_error(api.get(path, auth=(OPERATOR, OPERATOR_TOKEN)), 404, 20404)
    assert_error(
        api.post("/control/webhooks/999999/redeliver", auth=(OPERATOR, OPERATOR_TOKEN)),
        404,
        20404,
    )
    assert_error(api.get("/control/webhooks"), 401, 20003)
    assert_error(api.get("/control/webhooks", auth=(OPERATOR, "x" * 20)), 401, 20003)


# --- listing -----------------------------------------------------------------------------------


def test_the_list_filters_by_state_and_account_and_pages(api: Api, receiver: Receiver) -> None:
    other = api.new_account()
    mine = [activate(api, receiver.url())["sid"] for _ in range(3)]
    refused = activate(api, f"http://127.0.0.1:{free_port()}/closed")["sid"]
    theirs = activate(api, receiver.url(), as_=other)["sid"]
    advance(api, COMPLETION)
    receiver.wait_for(4)

    # (Updates complete side by side, so deliveries are made in no particular order.)
    def subjects(**filters: str) -> set[str]:
        found = deliveries(api, **filters)
        assert [w["id"] for w in found] == sorted(w["id"] for w in found)
        return {w["subject"] for w in found}

    assert subjects() == {*mine, refused, theirs}
    assert subjects(State="delivered") == {*mine, theirs}
    assert subjects(State="pending") == {refused}
    assert subjects(State="failed") == set()
    assert subjects(AccountSid=api.creds.account_sid) == {*mine, refused}
    assert subjects(AccountSid=other.account_sid) == {theirs}
    assert subjects(AccountSid=other.account_sid, State="pending") == set()
    assert subjects(State="delivered", AccountSid=api.creds.account_sid) == set(mine)
    assert subjects(AccountSid="AC" + "0" * 32) == set()
    assert {w["account_sid"] for w in deliveries(api, AccountSid=other.account_sid)} == {
        other.account_sid
    }

    # Pages of two, following next_page_url, which keeps the filter.
    seen: list[int] = []
    page = control(api, "GET", "/control/webhooks", State="delivered", PageSize="2")
    pages = 1
    while True:
        seen += [w["id"] for w in page["webhooks"]]
        assert page["meta"]["page_size"] == 2
        assert len(page["webhooks"]) <= 2
        next_url = page["meta"]["next_page_url"]
        if next_url is None:
            break
        assert "State=delivered" in next_url
        response = api.get(next_url, auth=(OPERATOR, OPERATOR_TOKEN))
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
    assert seen == [w["id"] for w in deliveries(api, State="delivered")]
    assert pages == 2

    for name, value in [
        ("PageSize", "0"),
        ("PageSize", "1001"),
        ("PageSize", "2.5"),
        ("Page", "-1"),
    ]:
        query = urlencode({name: value})
        response = api.get(f"/control/webhooks?{query}", auth=(OPERATOR, OPERATOR_TOKEN))
        assert_error(response, 400, 20001, name)
