"""IP Commands through the official `twilio` SDK (`client.supersim.v1.ip_commands`) against a
live server on a manual clock: create, fetch and list as the SDK parses them, delivery when
the clock moves, signed callbacks and Fleet webhooks at a real receiver, and every refusal
as a TwilioRestException.

One server per backend serves the module; each test uses its own Sims.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.contract.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Live,
    as_dict,
)
from tests.contract.test_sdk_scenario import rest_error
from tests.support.receiver import Received, Receiver

pytestmark = [pytest.mark.live]

CLOCK_START = "2026-03-01T00:00:00Z"


@pytest.fixture(scope="module")
def live(manual_live: Live) -> Live:
    return manual_live


@pytest.fixture(scope="module")
def http(live: Live) -> Iterator[httpx.Client]:
    """The account's plain HTTP client, for the device API."""
    with live.http() as client:
        yield client


def advance(control: httpx.Client, seconds: float) -> None:
    response = control.post("/control/clock/advance", data={"Seconds": str(seconds)})
    assert response.status_code == 200, response.text


def server_now(control: httpx.Client) -> dt.datetime:
    now = ok(control.get("/control/clock"))["now"]
    return dt.datetime.fromisoformat(now.replace("Z", "+00:00"))


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    body: dict[str, Any] = response.json()
    return body


def active_sim(
    live: Live, control: httpx.Client, card: int, name: str, **fleet: Any
) -> tuple[str, str]:
    """An active Sim (SID, ICCID) in a new Fleet whose profile holds one US network."""
    v1 = live.client.supersim.v1
    network = v1.networks.list(iso_country="US", limit=1)[0].sid
    profile = v1.network_access_profiles.create(unique_name=f"{name}-nap", networks=[network])
    fleet_sid = v1.fleets.create(network_access_profile=profile.sid, unique_name=name, **fleet).sid
    chosen = live.cards[card]
    sim = v1.sims.create(iccid=chosen.iccid, registration_code=chosen.registration_code)
    v1.sims(sim.sid).update(fleet=fleet_sid, status="active")
    advance(control, 3)
    assert v1.sims(sim.sid).fetch().status == "active"
    return sim.sid, chosen.iccid


def attach(live: Live, http: httpx.Client, sim: str) -> str:
    network = live.client.supersim.v1.networks.list(iso_country="US", limit=1)[0].sid
    body = ok(http.post(f"/devices/{sim}/attach", data={"Network": network}))
    assert body["attached"] is True, body
    return str(body["device"]["ip_address"])


def signed(request: Received) -> dict[str, str]:
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate(request.url, request.form, request.signature)
    return request.form


def test_a_command_through_the_sdk_is_sent_and_called_back(
    live: Live, http: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    v1 = live.client.supersim.v1
    sim, iccid = active_sim(live, control, 0, "ip-sdk-mt")
    address = attach(live, http, sim)

    created = v1.ip_commands.create(
        sim=sim,
        payload="checkin: firmware update",
        device_port=100,
        callback_url=receiver.url("/ip-callback"),
    )
    assert created.sid.startswith("HG")
    assert created.account_sid == ACCOUNT_SID
    assert (created.sim_sid, created.sim_iccid) == (sim, iccid)
    assert (created.status, created.direction) == ("queued", "to_sim")
    assert created.device_ip is None
    assert created.device_port == 100
    assert (created.payload_type, created.payload) == ("text", "checkin: firmware update")
    assert created.date_created == server_now(control)
    assert created.url == f"{live.base_url}/v1/IpCommands/{created.sid}"
    assert as_dict(v1.ip_commands(created.sid).fetch()) == as_dict(created)

    advance(control, 1)
    sent = v1.ip_commands(created.sid).fetch()
    assert (sent.status, sent.device_ip) == ("sent", address)
    assert sent.date_updated > created.date_updated
    (callback,) = receiver.wait_for(1)
    params = signed(callback)
    assert (params["IpCommandSid"], params["Status"]) == (created.sid, "sent")
    assert params["DeviceIp"] == address

    binary = v1.ip_commands.create(
        sim=sim,
        payload=base64.b64encode(b"\x00\x01").decode(),
        device_port=9,
        payload_type="binary",
    )
    assert (binary.payload_type, binary.payload) == ("binary", "AAE=")
    inbox = ok(http.get(f"/devices/{sim}/inbox"))["messages"]
    assert [m["command_sid"] for m in inbox] == [created.sid]

    listed = v1.ip_commands.list(sim=sim)
    assert [c.sid for c in listed] == [binary.sid, created.sid]  # newest first
    paged = list(v1.ip_commands.stream(sim_iccid=iccid, page_size=1))
    assert [c.sid for c in paged] == [binary.sid, created.sid]
    assert [c.sid for c in v1.ip_commands.list(sim=sim, status="sent")] == [created.sid]
    assert [c.sid for c in v1.ip_commands.list(sim=sim, status="queued")] == [binary.sid]
    assert v1.ip_commands.list(sim=sim, direction="from_sim") == []


def test_a_detached_device_fails_the_command(
    live: Live, control: httpx.Client, receiver: Receiver
) -> None:
    v1 = live.client.supersim.v1
    sim, _ = active_sim(live, control, 1, "ip-sdk-detached")
    created = v1.ip_commands.create(
        sim=sim, payload="hello", device_port=4000, callback_url=receiver.url("/failed")
    )
    advance(control, 1)
    assert v1.ip_commands(created.sid).fetch().status == "failed"
    (callback,) = receiver.wait_for(1)
    params = signed(callback)
    assert (params["Status"], params["ErrorCode"]) == ("failed", "83401")


def test_a_device_datagram_reaches_the_fleet(
    live: Live, http: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    v1 = live.client.supersim.v1
    sim, _ = active_sim(
        live,
        control,
        2,
        "ip-sdk-mo",
        ip_commands_url=receiver.url("/fleet"),
    )
    address = attach(live, http, sim)
    sent = ok(http.post(f"/devices/{sim}/udp", data={"SourcePort": "6969", "Text": "ping"}))
    (received,) = v1.ip_commands.list(sim=sim, direction="from_sim")
    assert received.sid == sent["sid"]
    assert (received.status, received.payload_type) == ("received", "binary")
    assert base64.b64decode(received.payload) == b"ping"
    assert (received.device_ip, received.device_port) == (address, 6969)
    (webhook,) = receiver.wait_for(1)  # due now: the server's own worker delivers it
    assert signed(webhook)["IpCommandSid"] == received.sid


def test_refusals_are_rest_exceptions(live: Live, control: httpx.Client) -> None:
    v1 = live.client.supersim.v1
    sim, _ = active_sim(live, control, 3, "ip-sdk-refusals")
    before = len(v1.ip_commands.list())
    rest_error(lambda: v1.ip_commands.create(sim="nobody", payload="x", device_port=1), 404, 83005)
    rest_error(
        lambda: v1.ip_commands.create(sim=sim, payload="x" * 1301, device_port=1), 400, 20001
    )
    rest_error(
        lambda: v1.ip_commands.create(sim=sim, payload="@@", device_port=1, payload_type="binary"),
        400,
        20001,
    )
    rest_error(lambda: v1.ip_commands.create(sim=sim, payload="x", device_port=70000), 400, 20001)
    rest_error(lambda: v1.ip_commands("HG" + "0" * 32).fetch(), 404, 20404)
    other = live.cards[4]
    new_sim = v1.sims.create(iccid=other.iccid, registration_code=other.registration_code)
    error = rest_error(
        lambda: v1.ip_commands.create(sim=new_sim.sid, payload="x", device_port=1), 400, 20001
    )
    assert "Sim" in error.msg
    assert len(v1.ip_commands.list()) == before
