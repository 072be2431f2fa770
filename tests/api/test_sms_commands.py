"""SMS Commands over HTTP on the manual clock: a command to an attached device, to one
that attaches later, to one that never does (failed after 24 hours); a command from a
device to the Fleet's webhook; signed callbacks at each status change; every refusal,
which creates nothing; fetch and list with filters and paging, newest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from fleetsim.core.dates import iso
from fleetsim.db.store import Tx
from fleetsim.db.tables import Job
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.policies import LIFECYCLES
from fleetsim.resources.sms_commands import lifecycle, service
from tests.api.conftest import Api, assert_error
from tests.api.network_fixtures import ConnectedSim, advance, attach, connectable_sim
from tests.support.receiver import Received, Receiver

FIRST_ATTEMPT = LIFECYCLES["sms_command"]  # seconds after creation
DAY = 24 * 3600
SMS_COMMAND_SID = "HC" + "0" * 32
# Every character of the extension table, each taking two septets.
EXTENSION_CHARS = "^{}\\[~]|€\f"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


# --- helpers ---------------------------------------------------------------------------


def send(api: Api, sim: str, payload: str, **extra: str) -> httpx.Response:
    return api.post("/v1/SmsCommands", data={"Sim": sim, "Payload": payload, **extra})


def sent(api: Api, sim: str, payload: str, **extra: str) -> dict[str, Any]:
    """A command created: 201, queued, to the Sim."""
    response = send(api, sim, payload, **extra)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "queued"
    assert body["direction"] == "to_sim"
    return body


def fetch(api: Api, sid: str) -> dict[str, Any]:
    response = api.get(f"/v1/SmsCommands/{sid}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def listed(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/v1/SmsCommands", params={"PageSize": 1000, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["sms_commands"]
    return items


def inbox(api: Api, sim: str) -> list[tuple[str, str, str, str]]:
    """(kind, command SID, payload, received at) of each message, oldest first."""
    response = api.get(f"/devices/{sim}/inbox", params={"PageSize": 1000})
    assert response.status_code == 200, response.text
    return [
        (m["kind"], m["command_sid"], m["payload"], m["received_at"])
        for m in response.json()["messages"]
    ]


def mo(api: Api, sim: str, body: str, to: str = "000") -> httpx.Response:
    return api.post(f"/devices/{sim}/sms", data={"To": to, "Body": body})


def in_order(requests: list[Received]) -> list[Received]:
    """Webhooks in the order they were made (deliveries due together may race)."""
    return sorted(requests, key=lambda r: int(r.headers["i-twilio-idempotency-token"][9:]))


def later(api: Api, seconds: float) -> str:
    return iso(api.clock.now() + dt.timedelta(seconds=seconds))


def assert_signed(api: Api, request: Received, url: str) -> None:
    validator = RequestValidator(api.creds.password)
    if request.method == "GET":
        assert validator.validate(request.url, {}, request.signature)
    else:
        assert validator.validate(url, request.form, request.signature)
        assert not validator.validate(url, {**request.form, "Status": "x"}, request.signature)


def expected_params(
    api: Api, sim: ConnectedSim, command: dict[str, Any], status: str, unique_name: str = ""
) -> dict[str, str]:
    return {
        "SmsCommandSid": command["sid"],
        "AccountSid": api.creds.account_sid,
        "SimSid": sim.sid,
        "SimUniqueName": unique_name,
        "SimIccid": sim.iccid,
        "Payload": command["payload"],
        "Status": status,
        "Direction": command["direction"],
        "DateCreated": command["date_created"],
    }


def pending_deliveries(api: Api) -> int:
    with unit_of_work(api.engine, write=False) as session:
        return session.execute(
            select(func.count())
            .select_from(Job)
            .where(Job.kind == lifecycle.DELIVER, Job.state == "pending")
        ).scalar_one()


def snapshot(api: Api) -> tuple[list[dict[str, Any]], dict[str, int], int]:
    """What a refused request must leave alone: commands, jobs, webhook deliveries."""
    jobs = api.control("GET", "/control/jobs").json()["jobs"]
    webhooks = api.control("GET", "/control/webhooks", params={"PageSize": 1000}).json()
    return listed(api), jobs, len(webhooks["webhooks"])


# --- to the device (mobile-terminated) -----------------------------------------------------


def test_a_command_reaches_an_attached_device_with_a_callback_at_each_step(
    api: Api, receiver: Receiver
) -> None:
    sim = connectable_sim(api)
    assert api.post(f"/v1/Sims/{sim.sid}", data={"UniqueName": "meter-7"}).status_code == 200
    attach(api, sim.sid, sim.network_sids[0])
    url = receiver.url("/sms/status?tenant=1")
    created_at = iso(api.clock.now())
    command = sent(api, "meter-7", "reboot now", CallbackUrl=url)
    assert command["sim_sid"] == sim.sid
    assert command["account_sid"] == api.creds.account_sid
    assert command["payload"] == "reboot now"
    assert command["date_created"] == command["date_updated"] == created_at
    assert command["url"] == f"http://fleetsim.test/v1/SmsCommands/{command['sid']}"
    assert fetch(api, command["sid"]) == command

    advance(api, FIRST_ATTEMPT - 0.5)
    assert fetch(api, command["sid"])["status"] == "queued"
    assert receiver.requests == []
    advance(api, 0.5)
    delivered_at = iso(api.clock.now())
    delivered = fetch(api, command["sid"])
    assert delivered["status"] == "delivered"
    assert delivered["date_updated"] == delivered_at
    assert delivered["date_created"] == created_at
    assert inbox(api, sim.sid) == [("sms", command["sid"], "reboot now", delivered_at)]

    first, second = in_order(receiver.wait_for(2))
    assert first.form == expected_params(api, sim, command, "sent", "meter-7")
    assert second.form == expected_params(api, sim, command, "delivered", "meter-7")
    for request in (first, second):
        assert (request.method, request.path) == ("POST", "/sms/status?tenant=1")
        assert_signed(api, request, url)

    # A second command lands after the first, in order.
    again = sent(api, sim.sid, "status?")
    advance(api, FIRST_ATTEMPT)
    assert [m[1:3] for m in inbox(api, sim.sid)] == [
        (command["sid"], "reboot now"),
        (again["sid"], "status?"),
    ]
    advance(api, DAY)
    assert len(receiver.requests) == 2, "a command without CallbackUrl calls nothing"


def test_a_command_waits_for_the_device_to_attach(api: Api, receiver: Receiver) -> None:
    sim = connectable_sim(api)
    url = receiver.url()
    command = sent(api, sim.sid, "wake up", CallbackUrl=url, CallbackMethod="GET")
    advance(api, FIRST_ATTEMPT)
    assert fetch(api, command["sid"])["status"] == "sent"
    (was_sent,) = receiver.wait_for(1)
    assert was_sent.method == "GET"
    assert was_sent.query == expected_params(api, sim, command, "sent")
    assert_signed(api, was_sent, url)

    advance(api, 3 * 3600)  # retried meanwhile, the device still away
    assert fetch(api, command["sid"])["status"] == "sent"
    assert inbox(api, sim.sid) == []

    advance(api, 123)  # between two retries: the attach itself wakes the delivery
    attach(api, sim.sid, sim.network_sids[0])
    attached_at = iso(api.clock.now())
    advance(api, 0)
    delivered = fetch(api, command["sid"])
    assert delivered["status"] == "delivered"
    assert delivered["date_updated"] == attached_at
    assert inbox(api, sim.sid) == [("sms", command["sid"], "wake up", attached_at)]
    _, was_delivered = in_order(receiver.wait_for(2))
    assert was_delivered.query["Status"] == "delivered"
    assert_signed(api, was_delivered, url)


def test_a_command_fails_24_hours_after_creation(api: Api, receiver: Receiver) -> None:
    sim = connectable_sim(api)
    created = api.clock.now()
    command = sent(api, sim.sid, "anyone there?", CallbackUrl=receiver.url())
    advance(api, DAY - 1)
    assert fetch(api, command["sid"])["status"] == "sent"
    advance(api, 1)
    failed = fetch(api, command["sid"])
    assert failed["status"] == "failed"
    assert failed["date_updated"] == iso(created + dt.timedelta(days=1))
    statuses = [r.form["Status"] for r in in_order(receiver.wait_for(2))]
    assert statuses == ["sent", "failed"]

    # Nothing is delivered after the command failed, and nothing is left to run.
    attach(api, sim.sid, sim.network_sids[0])
    advance(api, 3600)
    assert inbox(api, sim.sid) == []
    assert fetch(api, command["sid"])["status"] == "failed"
    assert len(receiver.requests) == 2
    assert pending_deliveries(api) == 0


def test_retries_back_off_up_to_hourly() -> None:
    minutes = [lifecycle.retry_delay(n).total_seconds() / 60 for n in range(1, 8)]
    assert minutes == [5, 10, 20, 40, 60, 60, 60]


def test_a_device_that_detached_again_keeps_the_command_waiting(api: Api) -> None:
    sim = connectable_sim(api)
    command = sent(api, sim.sid, "later")
    advance(api, FIRST_ATTEMPT)
    attach(api, sim.sid, sim.network_sids[0])
    assert api.post(f"/devices/{sim.sid}/detach").status_code == 200
    advance(api, 0)
    assert fetch(api, command["sid"])["status"] == "sent"
    attach(api, sim.sid, sim.network_sids[0])
    advance(api, 0)
    assert fetch(api, command["sid"])["status"] == "delivered"


def test_a_manual_policy_holds_the_first_attempt(api: Api) -> None:
    sim = connectable_sim(api)
    attach(api, sim.sid, sim.network_sids[0])
    response = api.control("POST", "/control/policies/sms_command", {"Policy": "manual"})
    assert response.status_code == 200, response.text
    command = sent(api, sim.sid, "hold")
    advance(api, 3600)
    assert fetch(api, command["sid"])["status"] == "queued"
    progress = f"/control/lifecycles/sms_command/attach:{sim.sid}/progress"
    assert api.control("POST", progress).status_code == 200
    assert fetch(api, command["sid"])["status"] == "delivered"


def test_delivered_and_received_commands_count_as_sms(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[str] = []

    def record(tx: Tx, sim_id: int, **_: Any) -> None:
        row = tx.one("SELECT sid FROM sims WHERE id = ?", (sim_id,))
        assert row is not None
        counted.append(row[0])

    monkeypatch.setattr(lifecycle, "record_sms", record)
    monkeypatch.setattr(service, "record_sms", record)
    sim = connectable_sim(api)
    attach(api, sim.sid, sim.network_sids[0])
    sent(api, sim.sid, "one")
    stranded = connectable_sim(api)
    sent(api, stranded.sid, "never delivered")
    advance(api, FIRST_ATTEMPT)
    assert mo(api, sim.sid, "two").status_code == 201
    advance(api, DAY)
    assert counted == [sim.sid, sim.sid]


# --- from the device (mobile-originated) ---------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_device_sends_a_command_to_the_fleet_webhook(
    api: Api, receiver: Receiver, method: str
) -> None:
    url = receiver.url("/inbound")
    sim = connectable_sim(api, fleet={"SmsCommandsUrl": url, "SmsCommandsMethod": method})
    attach(api, sim.sid, sim.network_sids[0])
    response = mo(api, sim.sid, "temp=21.5C {ok}")
    assert response.status_code == 201, response.text
    command = response.json()
    assert command["status"] == "received"
    assert command["direction"] == "from_sim"
    assert command["sim_sid"] == sim.sid
    assert command["payload"] == "temp=21.5C {ok}"
    assert command["date_created"] == iso(api.clock.now())
    assert fetch(api, command["sid"]) == command
    assert listed(api, Direction="from_sim") == [command]

    advance(api, 0)
    (request,) = receiver.wait_for(1)
    assert request.method == method
    params = request.form if method == "POST" else request.query
    assert params == expected_params(api, sim, command, "received")
    assert_signed(api, request, url)
    assert inbox(api, sim.sid) == [], "what a device sends is not in its own inbox"


def test_a_fleet_without_a_webhook_still_keeps_the_command(api: Api) -> None:
    sim = connectable_sim(api)
    attach(api, sim.sid, sim.network_sids[0])
    assert mo(api, sim.sid, "hello").status_code == 201
    advance(api, 0)
    assert [c["status"] for c in listed(api)] == ["received"]
    webhooks = api.control("GET", "/control/webhooks").json()["webhooks"]
    assert webhooks == []


def test_device_sends_are_refused_clearly_and_create_nothing(api: Api) -> None:
    sim = connectable_sim(api)
    before = snapshot(api)
    assert_error(mo(api, sim.sid, "hi"), 400, 20001, "not attached", "attach it first")
    attach(api, sim.sid, sim.network_sids[0])
    assert_error(mo(api, sim.sid, "hi", to="+15005550006"), 400, 20001, "To", "000")
    assert_error(mo(api, sim.sid, "x" * 161), 400, 20001, "Body", "161", "160")
    assert_error(mo(api, sim.sid, "привет"), 400, 20001, "Body", "GSM")
    assert_error(mo(api, sim.sid, ""), 400, 20001, "Body", "empty")
    missing_to = api.post(f"/devices/{sim.sid}/sms", data={"Body": "hi"})
    assert_error(missing_to, 400, 20001, "Missing required parameter To")
    missing_body = api.post(f"/devices/{sim.sid}/sms", data={"To": "000"})
    assert_error(missing_body, 400, 20001, "Missing required parameter Body")
    other = api.new_account()
    response = api.post(f"/devices/{sim.sid}/sms", data={"To": "000", "Body": "hi"}, as_=other)
    assert_error(response, 404, 20404)
    disabled = connectable_sim(api, fleet={"SmsCommandsEnabled": "false"})
    attach(api, disabled.sid, disabled.network_sids[0])
    assert_error(mo(api, disabled.sid, "hi"), 400, 20001, "Sim", "disabled")
    # (Attaching made jobs of its own: compare the commands and webhooks only.)
    commands, _, webhooks = before
    assert listed(api) == commands == []
    assert snapshot(api)[2] == webhooks


# --- refusals --------------------------------------------------------------------------


def test_payloads_up_to_160_gsm_septets_are_accepted(api: Api) -> None:
    sim = connectable_sim(api)
    basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà"
    for payload in ("x" * 160, EXTENSION_CHARS * 8, "a" + EXTENSION_CHARS * 7 + "b" * 19, basic):
        assert sent(api, sim.sid, payload)["payload"] == payload


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("x" * 161, ("Payload", "161", "at most 160")),
        (EXTENSION_CHARS * 8 + "x", ("Payload", "161", "count as 2")),
        ("€" * 81, ("Payload", "162", "at most 160")),
        ("café ☕", ("Payload", "GSM 03.38", "'☕' (U+2615)")),
        ("Zürich → Łódź", ("Payload", "'→' (U+2192)", "'Ł' (U+0141)", "'ó' (U+00F3)")),
        ("\x1b", ("Payload", "U+001B")),
        ("", ("Payload", "empty")),
    ],
)
def test_payloads_sms_cannot_carry_are_refused(
    api: Api, payload: str, words: tuple[str, ...]
) -> None:
    sim = connectable_sim(api)
    before = snapshot(api)
    assert_error(send(api, sim.sid, payload), 400, 20001, *words)
    assert snapshot(api) == before


def test_a_sim_that_is_not_ready_or_active_is_refused(api: Api) -> None:
    new = connectable_sim(api, status="new")
    inactive = connectable_sim(api, status="inactive")
    before = snapshot(api)
    assert_error(send(api, new.sid, "hi"), 400, 20001, "Sim", new.sid, "is new", "ready or active")
    assert_error(send(api, inactive.sid, "hi"), 400, 20001, "Sim", "is inactive")
    # Scheduled: judged by the status still in force.
    assert api.post(f"/v1/Sims/{new.sid}", data={"Status": "active"}).status_code == 202
    assert_error(send(api, new.sid, "hi"), 400, 20001, "Sim", "is new")
    assert snapshot(api)[0] == before[0] == []
    advance(api, 10)
    assert sent(api, new.sid, "now")["sim_sid"] == new.sid


def test_a_ready_sim_may_receive_commands(api: Api) -> None:
    sim = connectable_sim(api, status="ready")
    assert sent(api, sim.sid, "hi")["status"] == "queued"


def test_a_fleet_with_sms_commands_disabled_is_refused(api: Api) -> None:
    sim = connectable_sim(api, fleet={"SmsCommandsEnabled": "false"})
    before = snapshot(api)
    assert_error(send(api, sim.sid, "hi"), 400, 20001, "Sim", sim.fleet_sid, "disabled")
    assert snapshot(api) == before


def test_another_accounts_sim_is_not_found(api: Api) -> None:
    sim = connectable_sim(api)
    assert api.post(f"/v1/Sims/{sim.sid}", data={"UniqueName": "mine"}).status_code == 200
    other = api.new_account()
    before = snapshot(api)
    for ref in (sim.sid, "mine", "HS" + "0" * 32, "nobody"):
        response = api.post("/v1/SmsCommands", data={"Sim": ref, "Payload": "hi"}, as_=other)
        assert_error(response, 404, 83005, ref)
    assert_error(send(api, "nobody", "hi"), 404, 83005, "nobody")
    assert snapshot(api) == before


def test_missing_and_malformed_parameters(api: Api) -> None:
    sim = connectable_sim(api)
    before = snapshot(api)
    response = api.post("/v1/SmsCommands", data={"Payload": "hi"})
    assert_error(response, 400, 20001, "Missing required parameter Sim")
    response = api.post("/v1/SmsCommands", data={"Sim": sim.sid})
    assert_error(response, 400, 20001, "Missing required parameter Payload")
    response = send(api, sim.sid, "hi", CallbackUrl="not a url")
    assert_error(response, 400, 20001, "CallbackUrl")
    response = send(api, sim.sid, "hi", CallbackUrl="http://x", CallbackMethod="PUT")
    assert_error(response, 400, 20001, "CallbackMethod")
    assert_error(api.post("/v1/SmsCommands", data={}, auth=None), 401, 20003)
    assert snapshot(api) == before


# --- fetch and list --------------------------------------------------------------------


def test_fetch_needs_an_sms_command_sid_of_the_account(api: Api) -> None:
    sim = connectable_sim(api)
    command = sent(api, sim.sid, "hi")
    assert fetch(api, "HC" + command["sid"][2:].upper()) == command
    for ref in (SMS_COMMAND_SID, sim.sid, "not-a-sid"):
        assert_error(api.get(f"/v1/SmsCommands/{ref}"), 404, 20404, f"/SmsCommands/{ref}")
    other = api.new_account()
    response = api.get(f"/v1/SmsCommands/{command['sid']}", as_=other)
    assert_error(response, 404, 20404)
    assert listed(api) == [command]
    other_list = api.get("/v1/SmsCommands", as_=other).json()["sms_commands"]
    assert other_list == []


def test_list_filters_newest_first(api: Api) -> None:
    first = connectable_sim(api)
    second = connectable_sim(api)
    assert api.post(f"/v1/Sims/{second.sid}", data={"UniqueName": "pump"}).status_code == 200
    attach(api, first.sid, first.network_sids[0])
    a = sent(api, first.sid, "a")
    b = sent(api, second.sid, "b")
    advance(api, FIRST_ATTEMPT)  # a delivered, b sent
    c = mo(api, first.sid, "c").json()

    def sids(**params: str) -> list[str]:
        return [item["sid"] for item in listed(api, **params)]

    assert sids() == [c["sid"], b["sid"], a["sid"]]
    assert sids(Sim=first.sid) == [c["sid"], a["sid"]]
    assert sids(Sim="pump") == [b["sid"]]
    assert sids(Sim="nobody") == []
    assert sids(Sim="HS" + "0" * 32) == []
    assert sids(Status="delivered") == [a["sid"]]
    assert sids(Status="sent") == [b["sid"]]
    assert sids(Status="received", Direction="from_sim") == [c["sid"]]
    assert sids(Direction="to_sim") == [b["sid"], a["sid"]]
    assert sids(Direction="to_sim", Sim=first.sid, Status="delivered") == [a["sid"]]
    assert sids(Status="failed") == []
    assert_error(api.get("/v1/SmsCommands", params={"Status": "lost"}), 400, 20001, "Status")
    assert_error(api.get("/v1/SmsCommands", params={"Direction": "up"}), 400, 20001, "Direction")

    body = api.get("/v1/SmsCommands", params={"Sim": "pump", "Status": "sent"}).json()
    assert body["meta"]["key"] == "sms_commands"
    assert body["meta"]["url"] == (
        "http://fleetsim.test/v1/SmsCommands?Sim=pump&Status=sent&PageSize=50&Page=0"
    )


def test_list_pages_newest_first_both_ways(api: Api) -> None:
    sim = connectable_sim(api)
    made = [sent(api, sim.sid, f"n{i}")["sid"] for i in range(5)]
    newest_first = list(reversed(made))
    pages, url = [], "/v1/SmsCommands?PageSize=2"
    while url:
        body = api.get(url.removeprefix("http://fleetsim.test")).json()
        pages.append(body)
        url = body["meta"]["next_page_url"]
    assert [[c["sid"] for c in p["sms_commands"]] for p in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
    ]
    assert [p["meta"]["page"] for p in pages] == [0, 1, 2]
    assert pages[0]["meta"]["previous_page_url"] is None
    back = api.get(pages[2]["meta"]["previous_page_url"].removeprefix("http://fleetsim.test"))
    assert [c["sid"] for c in back.json()["sms_commands"]] == newest_first[2:4]
    bad = api.get("/v1/SmsCommands", params={"PageToken": "PAnot-a-token"})
    assert_error(bad, 400, 21481)
