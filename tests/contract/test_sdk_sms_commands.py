"""SMS Commands through the official `twilio` SDK against a live server on a manual clock:
create (by Sim SID and unique name), fetch, list with every filter and with paging, the
errors as TwilioRestException; delivery to a device that attaches, a command from the
device to the Fleet's webhook, and signed callbacks to a real receiver.

One server per backend serves the module (`--clock manual`, the operator's token from the
environment); the device acts through fleetsim's device API, the clock through the
control API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.contract.conftest import (
    ACCOUNT_SID,
    Live,
    as_dict,
)
from tests.contract.test_sdk_scenario import rest_error
from tests.support.checks import ok
from tests.support.receiver import Received, Receiver

pytestmark = [pytest.mark.live]

CLOCK_START = "2026-02-01T00:00:00Z"


@pytest.fixture(scope="module")
def live(manual_live: Live) -> Live:
    return manual_live


def advance(control: httpx.Client, seconds: float) -> dt.datetime:
    """Move the server clock, running what falls due; the new server time."""
    body = ok(control.post("/control/clock/advance", data={"Seconds": str(seconds)}))
    return dt.datetime.fromisoformat(body["now"].replace("Z", "+00:00"))


def in_order(requests: list[Received]) -> list[Received]:
    return sorted(requests, key=lambda r: int(r.headers["i-twilio-idempotency-token"][9:]))


@pytest.fixture
def device(live: Live) -> Iterator[httpx.Client]:
    """fleetsim's device API, with the account's credentials."""
    with live.http() as client:
        yield client


def test_sms_commands_through_the_sdk(
    live: Live, control: httpx.Client, device: httpx.Client, receiver: Receiver
) -> None:
    v1 = live.client.supersim.v1
    validator = RequestValidator(live.auth_token)
    inbound = receiver.url("/inbound")
    network = v1.networks.list(iso_country="US", limit=1)[0].sid
    profile = v1.network_access_profiles.create(unique_name="sms-profile", networks=[network])
    fleet = v1.fleets.create(
        network_access_profile=profile.sid, unique_name="sms-fleet", sms_commands_url=inbound
    )
    sims = []
    for number, card in enumerate(live.cards[:2]):
        sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)
        v1.sims(sim.sid).update(unique_name=f"sms-sim-{number}", fleet=fleet.sid)
        assert v1.sims(sim.sid).update(status="active").status == "scheduled"
        sims.append(sim.sid)
    attached, away = sims
    now = advance(control, 10)

    # Create by unique name and by SID, fetch, and see delivery to the attached device.
    status_url = receiver.url("/status")
    command = v1.sms_commands.create(sim="sms-sim-0", payload="ping", callback_url=status_url)
    assert (command.status, command.direction) == ("queued", "to_sim")
    assert (command.sim_sid, command.account_sid, command.payload) == (
        attached,
        ACCOUNT_SID,
        "ping",
    )
    assert command.date_created == command.date_updated == now
    assert command.url.endswith(f"/v1/SmsCommands/{command.sid}")
    assert as_dict(v1.sms_commands(command.sid).fetch()) == as_dict(command)
    waiting = v1.sms_commands.create(sim=away, payload="are you there?")
    assert waiting.sim_sid == away

    # The attach makes the first attempt due at once (the server's worker may run it
    # before the clock moves on).
    ok(device.post(f"/devices/{attached}/attach", data={"Network": network}))
    advance(control, 1)
    delivered = v1.sms_commands(command.sid).fetch()
    assert (delivered.status, delivered.date_updated) == ("delivered", now)
    assert v1.sms_commands(waiting.sid).fetch().status == "sent"
    inbox = ok(device.get(f"/devices/{attached}/inbox"))["messages"]
    assert [(m["command_sid"], m["payload"]) for m in inbox] == [(command.sid, "ping")]

    sent, done = in_order(receiver.wait_for(2))
    assert [r.form["Status"] for r in (sent, done)] == ["sent", "delivered"]
    for request in (sent, done):
        assert request.form["SmsCommandSid"] == command.sid
        assert validator.validate(status_url, request.form, request.signature)

    # The device answers: received, from the Sim, and on to the Fleet's webhook.
    reply = ok(device.post(f"/devices/{attached}/sms", data={"To": "000", "Body": "pong"}), 201)
    received = v1.sms_commands(reply["sid"]).fetch()
    assert (received.status, received.direction, received.payload) == (
        "received",
        "from_sim",
        "pong",
    )
    advance(control, 0)
    (webhook,) = [r for r in receiver.wait_for(3) if r.path == "/inbound"]
    assert webhook.form["SmsCommandSid"] == reply["sid"]
    assert webhook.form["Status"] == "received"
    assert validator.validate(inbound, webhook.form, webhook.signature)

    # Lists: newest first, every filter, and paging the SDK follows.
    def sids(**filters: Any) -> list[str]:
        return [c.sid for c in v1.sms_commands.list(**filters)]

    newest_first = [reply["sid"], waiting.sid, command.sid]
    assert sids() == newest_first
    assert sids(page_size=1) == newest_first
    assert sids(sim="sms-sim-0") == [reply["sid"], command.sid]
    assert sids(sim=away) == [waiting.sid]
    assert sids(sim="no-such-sim") == []
    assert sids(status="delivered") == [command.sid]
    assert sids(status="sent", direction="to_sim") == [waiting.sid]
    assert sids(direction="from_sim") == [reply["sid"]]
    assert sids(status="failed") == []
    page = v1.sms_commands.page(page_size=2)
    assert [c.sid for c in page] == newest_first[:2]
    assert [c.sid for c in page.next_page()] == newest_first[2:]

    # The 24 hours run out for the device that never attached.
    advance(control, 24 * 3600)
    assert v1.sms_commands(waiting.sid).fetch().status == "failed"

    # Errors, as the SDK raises them; none creates anything.
    rest_error(lambda: v1.sms_commands.create(sim=attached, payload="x" * 161), 400, 20001)
    rest_error(lambda: v1.sms_commands.create(sim=attached, payload="emoji 🙂"), 400, 20001)
    rest_error(lambda: v1.sms_commands.create(sim="no-such-sim", payload="hi"), 404, 83005)
    fresh = live.cards[2]
    new_sim = v1.sims.create(iccid=fresh.iccid, registration_code=fresh.registration_code)
    error = rest_error(lambda: v1.sms_commands.create(sim=new_sim.sid, payload="hi"), 400, 20001)
    assert "Sim" in error.msg
    rest_error(lambda: v1.sms_commands("HC" + "0" * 32).fetch(), 404, 20404)
    assert sids() == newest_first
