"""IP Commands over HTTP on the frozen clock: mobile-terminated commands sent or failed by
their delivery job, signed callbacks, mobile-originated commands from the device API and
the Fleet's webhook, validation that creates nothing, listing, the device's UDP binding,
and real datagrams through an in-process UDP bridge."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from fleetsim.contract import schema_properties
from fleetsim.db.tables import IpCommand, Job
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.ip_commands.udp import UdpBridge
from tests.api.conftest import Api, assert_error
from tests.api.network_fixtures import ConnectedSim, advance, attach, connectable_sim
from tests.support.receiver import Received, Receiver

IP_COMMANDS = "/v1/IpCommands"
KEYS = set(schema_properties("supersim.v1.ip_command"))
WAIT_SECONDS = 10.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def udp_socket() -> Iterator[socket.socket]:
    """A real UDP endpoint on 127.0.0.1, as a device's modem would be."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(WAIT_SECONDS)
        yield sock


def create(api: Api, **data: str) -> dict[str, Any]:
    response = api.post(IP_COMMANDS, data=data)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == KEYS
    return body


def fetch(api: Api, sid: str) -> dict[str, Any]:
    response = api.get(f"{IP_COMMANDS}/{sid}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def listed(api: Api, **params: str) -> list[dict[str, Any]]:
    response = api.get(IP_COMMANDS, params=params)
    assert response.status_code == 200, response.text
    commands: list[dict[str, Any]] = response.json()["ip_commands"]
    return commands


def inbox(api: Api, sim: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = api.get(f"/devices/{sim}/inbox").json()["messages"]
    return messages


def counts(api: Api) -> tuple[int, int]:
    """IP Commands and jobs in the database."""
    with unit_of_work(api.engine, write=False) as session:
        commands = session.execute(select(func.count()).select_from(IpCommand)).scalar_one()
        jobs = session.execute(select(func.count()).select_from(Job)).scalar_one()
    return commands, jobs


def signed(api: Api, request: Received) -> dict[str, str]:
    """The request's parameters, once its signature is checked (as Twilio's SDK checks)."""
    validator = RequestValidator(api.creds.password)
    if request.method == "GET":
        assert validator.validate(request.url, {}, request.signature)
        return request.query
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert validator.validate(request.url, request.form, request.signature)
    return request.form


def attached(api: Api, **fleet: str) -> tuple[ConnectedSim, str]:
    """An active Sim whose device is attached; its address."""
    sim = connectable_sim(api, fleet=fleet or None)
    device = attach(api, sim.sid, sim.network_sids[0])["device"]
    return sim, str(device["ip_address"])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wait_until(condition: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
    """The condition's first truthy value, checked until `timeout` seconds have passed."""
    pause = threading.Event()
    deadline = timeout
    while deadline > 0:
        value = condition()
        if value:
            return value
        pause.wait(0.02)
        deadline -= 0.02
    raise AssertionError(f"not true within {timeout}s")


# --- mobile-terminated --------------------------------------------------------------------


def test_a_command_is_queued_then_sent_to_the_attached_device(api: Api, receiver: Receiver) -> None:
    sim, address = attached(api)
    created = create(
        api,
        Sim=sim.sid,
        Payload="checkin: firmware update",
        DevicePort="100",
        CallbackUrl=receiver.url("/ip"),
    )
    assert created["sid"].startswith("HG")
    assert created["account_sid"] == api.creds.account_sid
    assert created["sim_sid"] == sim.sid
    assert created["sim_iccid"] == sim.iccid
    assert created["status"] == "queued"
    assert created["direction"] == "to_sim"
    assert created["device_ip"] is None
    assert created["device_port"] == 100
    assert created["payload_type"] == "text"
    assert created["payload"] == "checkin: firmware update"
    assert created["url"] == f"http://fleetsim.test{IP_COMMANDS}/{created['sid']}"
    assert fetch(api, created["sid"]) == created
    assert inbox(api, sim.sid) == []

    advance(api, 1)
    sent = fetch(api, created["sid"])
    assert sent["status"] == "sent"
    assert sent["device_ip"] == address
    assert sent["date_updated"] > created["date_updated"]
    (message,) = inbox(api, sim.sid)
    assert message["kind"] == "ip"
    assert message["command_sid"] == created["sid"]
    assert message["payload"] == "checkin: firmware update"
    assert message["payload_type"] == "text"
    assert message["port"] == 100

    (callback,) = receiver.wait_for(1)
    assert callback.method == "POST"
    assert signed(api, callback) == {
        "IpCommandSid": created["sid"],
        "AccountSid": api.creds.account_sid,
        "SimSid": sim.sid,
        "SimIccid": sim.iccid,
        "Status": "sent",
        "Direction": "to_sim",
        "DeviceIp": address,
        "DevicePort": "100",
        "PayloadType": "text",
        "Payload": "checkin: firmware update",
    }
    advance(api, 60)
    assert len(receiver.requests) == 1  # one status change, one callback


def test_a_binary_command_keeps_its_base64(api: Api) -> None:
    sim, _ = attached(api)
    payload = b64(bytes(range(256)) * 5)  # 1280 bytes
    created = create(api, Sim=sim.sid, Payload=payload, DevicePort="6969", PayloadType="binary")
    assert created["payload"] == payload
    advance(api, 1)
    assert fetch(api, created["sid"])["status"] == "sent"
    (message,) = inbox(api, sim.sid)
    assert (message["payload"], message["payload_type"]) == (payload, "binary")


def test_a_command_to_a_detached_device_fails_with_83401(api: Api, receiver: Receiver) -> None:
    sim = connectable_sim(api)
    created = create(
        api,
        Sim=sim.sid,
        Payload="hello",
        DevicePort="4000",
        CallbackUrl=receiver.url("/failed"),
        CallbackMethod="GET",
    )
    advance(api, 1)
    failed = fetch(api, created["sid"])
    assert failed["status"] == "failed"
    assert failed["device_ip"] is None
    assert inbox(api, sim.sid) == []
    (callback,) = receiver.wait_for(1)
    assert callback.method == "GET"
    params = signed(api, callback)
    assert params["Status"] == "failed"
    assert params["ErrorCode"] == "83401"
    assert params["DeviceIp"] == ""
    assert params["IpCommandSid"] == created["sid"]
    # Not held for a device that attaches later (see `delivery`).
    attach(api, sim.sid, sim.network_sids[0])
    advance(api, 60)
    assert fetch(api, created["sid"])["status"] == "failed"


def test_the_progression_policy_times_the_delivery(api: Api) -> None:
    sim, _ = attached(api)
    policy = api.control("POST", "/control/policies/ip_command", {"Policy": "manual"})
    assert policy.status_code == 200, policy.text
    created = create(api, Sim=sim.sid, Payload="later", DevicePort="10")
    advance(api, 3600)
    assert fetch(api, created["sid"])["status"] == "queued"
    progressed = api.control("POST", f"/control/lifecycles/ip_command/{created['sid']}/progress")
    assert progressed.status_code == 200, progressed.text
    assert fetch(api, created["sid"])["status"] == "sent"

    api.control("POST", "/control/policies/ip_command", {"Policy": "delay", "Delay": "30"})
    second = create(api, Sim=sim.sid, Payload="in 30 s", DevicePort="10")
    advance(api, 29)
    assert fetch(api, second["sid"])["status"] == "queued"
    advance(api, 1)
    assert fetch(api, second["sid"])["status"] == "sent"


# --- what is refused, and creates nothing --------------------------------------------------


BAD_REQUESTS: list[tuple[dict[str, str | None], int, int, tuple[str, ...]]] = [
    ({"Payload": "é" * 651}, 400, 20001, ("Payload", "1302 bytes", "1300")),
    ({"Payload": b64(b"x" * 1301), "PayloadType": "binary"}, 400, 20001, ("Payload", "1301")),
    ({"Payload": "not base64!", "PayloadType": "binary"}, 400, 20001, ("Payload", "Base64")),
    ({"Payload": "QUJD=", "PayloadType": "binary"}, 400, 20001, ("Payload", "Base64")),
    ({"Payload": ""}, 400, 20001, ("Payload", "empty")),
    ({"PayloadType": "hex"}, 400, 20001, ("PayloadType",)),
    ({"DevicePort": "0"}, 400, 20001, ("DevicePort", "65535")),
    ({"DevicePort": "65536"}, 400, 20001, ("DevicePort", "65535")),
    ({"DevicePort": "http"}, 400, 20001, ("DevicePort", "integer")),
    ({"CallbackUrl": "not-a-url"}, 400, 20001, ("CallbackUrl",)),
    ({"CallbackMethod": "PUT"}, 400, 20001, ("CallbackMethod",)),
    ({"Payload": None}, 400, 20001, ("Missing required parameter Payload",)),
    ({"DevicePort": None}, 400, 20001, ("Missing required parameter DevicePort",)),
    ({"Sim": None}, 400, 20001, ("Missing required parameter Sim",)),
    ({"Sim": "HS" + "0" * 32}, 404, 83005, ("HS" + "0" * 32,)),
    ({"Sim": "no-such-sim"}, 404, 83005, ("no-such-sim",)),
]


def test_bad_requests_create_nothing(api: Api) -> None:
    sim, _ = attached(api)
    before = counts(api)
    for data, status, code, words in BAD_REQUESTS:
        form = {"Sim": sim.sid, "Payload": "hello", "DevicePort": "100"} | data
        response = api.post(IP_COMMANDS, data={k: v for k, v in form.items() if v is not None})
        assert_error(response, status, code, *words)
    assert counts(api) == before
    assert listed(api) == []


def test_the_largest_payloads_and_a_sim_by_unique_name(api: Api) -> None:
    sim, _ = attached(api)
    create(api, Sim=sim.sid, Payload="é" * 650, DevicePort="1")
    create(api, Sim=sim.sid, Payload=b64(b"x" * 1300), DevicePort="65535", PayloadType="binary")
    renamed = api.post(f"/v1/Sims/{sim.sid}", data={"UniqueName": "tracker-7"})
    assert renamed.status_code == 200, renamed.text
    assert create(api, Sim="tracker-7", Payload="hi", DevicePort="1")["sim_sid"] == sim.sid


def test_another_accounts_sim_is_unknown(api: Api) -> None:
    sim, _ = attached(api)
    other = api.new_account()
    before = counts(api)
    response = api.request(
        "POST", IP_COMMANDS, data={"Sim": sim.sid, "Payload": "x", "DevicePort": "1"}, as_=other
    )
    assert_error(response, 404, 83005, sim.sid)
    assert counts(api) == before


@pytest.mark.parametrize("status", ["new", "inactive"])
def test_a_sim_that_is_not_ready_or_active_is_refused(api: Api, status: str) -> None:
    sim = connectable_sim(api, status=status)
    before = counts(api)
    response = api.post(IP_COMMANDS, data={"Sim": sim.sid, "Payload": "x", "DevicePort": "1"})
    assert_error(response, 400, 20001, "Sim", status, "ready or active")
    assert counts(api) == before


def test_a_fleet_without_data_is_refused(api: Api) -> None:
    sim = connectable_sim(api, fleet={"DataEnabled": "false"})
    response = api.post(IP_COMMANDS, data={"Sim": sim.sid, "Payload": "x", "DevicePort": "1"})
    assert_error(response, 400, 20001, "Sim", "data is disabled")
    assert listed(api) == []


def test_fetch_needs_an_ip_command_sid_of_the_account(api: Api) -> None:
    sim, _ = attached(api)
    created = create(api, Sim=sim.sid, Payload="x", DevicePort="1")
    assert fetch(api, "HG" + created["sid"][2:].upper()) == created
    assert_error(api.get(f"{IP_COMMANDS}/HG{'0' * 32}"), 404, 20404, f"HG{'0' * 32}")
    assert_error(api.get(f"{IP_COMMANDS}/{sim.sid}"), 404, 20404)
    assert_error(api.get(f"{IP_COMMANDS}/not-a-sid"), 404, 20404)
    other = api.new_account()
    assert_error(api.get(f"{IP_COMMANDS}/{created['sid']}", as_=other), 404, 20404)
    assert api.get(IP_COMMANDS, as_=other).json()["ip_commands"] == []


# --- listing -------------------------------------------------------------------------------


def test_list_filters_newest_first_and_pages(api: Api) -> None:
    first, _ = attached(api)
    second = connectable_sim(api)  # detached: its commands fail
    a = create(api, Sim=first.sid, Payload="a", DevicePort="1")
    b = create(api, Sim=second.sid, Payload="b", DevicePort="1")
    advance(api, 1)
    c = create(api, Sim=first.sid, Payload="c", DevicePort="1")
    mo = api.post(f"/devices/{first.sid}/udp", data={"SourcePort": "7", "Text": "d"}).json()

    def sids(**params: str) -> list[str]:
        return [command["sid"] for command in listed(api, **params)]

    assert sids() == [mo["sid"], c["sid"], b["sid"], a["sid"]]
    assert sids(Sim=first.sid) == [mo["sid"], c["sid"], a["sid"]]
    assert sids(SimIccid=second.iccid) == [b["sid"]]
    assert sids(Status="sent") == [a["sid"]]
    assert sids(Status="failed") == [b["sid"]]
    assert sids(Status="queued") == [c["sid"]]
    assert sids(Direction="from_sim") == [mo["sid"]]
    assert sids(Direction="to_sim", Sim=first.sid) == [c["sid"], a["sid"]]
    assert sids(Sim="no-such-sim") == []
    assert_error(api.get(IP_COMMANDS, params={"Status": "lost"}), 400, 20001, "Status")
    assert_error(api.get(IP_COMMANDS, params={"Direction": "up"}), 400, 20001, "Direction")

    page = api.get(IP_COMMANDS, params={"PageSize": 3}).json()
    assert [x["sid"] for x in page["ip_commands"]] == [mo["sid"], c["sid"], b["sid"]]
    assert page["meta"]["key"] == "ip_commands"
    assert page["meta"]["previous_page_url"] is None
    following = api.get(page["meta"]["next_page_url"]).json()
    assert [x["sid"] for x in following["ip_commands"]] == [a["sid"]]
    assert following["meta"]["next_page_url"] is None
    back = api.get(following["meta"]["previous_page_url"]).json()
    assert back["ip_commands"] == page["ip_commands"]


# --- mobile-originated ---------------------------------------------------------------------


def test_a_device_sends_a_datagram_and_the_fleet_hears_of_it(api: Api, receiver: Receiver) -> None:
    sim, address = attached(api, IpCommandsUrl=receiver.url("/fleet-ip"), IpCommandsMethod="POST")
    response = api.post(f"/devices/{sim.sid}/udp", data={"SourcePort": "6969", "Text": "hi ✓"})
    assert response.status_code == 201, response.text
    received = response.json()
    assert set(received) == KEYS
    assert received["status"] == "received"
    assert received["direction"] == "from_sim"
    assert received["payload_type"] == "binary"
    assert received["payload"] == b64("hi ✓".encode())
    assert received["device_ip"] == address
    assert received["device_port"] == 6969
    assert fetch(api, received["sid"]) == received

    binary = api.post(
        f"/devices/{sim.sid}/udp", data={"SourcePort": "1", "Payload": b64(b"\x00\xff")}
    ).json()
    assert binary["payload"] == "AP8="

    advance(api, 0)
    webhooks = {}
    for request in receiver.wait_for(2):  # delivered concurrently, in either order
        assert request.path == "/fleet-ip"
        params = signed(api, request)
        webhooks[params["IpCommandSid"]] = params
    assert webhooks[received["sid"]] == {
        "IpCommandSid": received["sid"],
        "AccountSid": api.creds.account_sid,
        "SimSid": sim.sid,
        "SimIccid": sim.iccid,
        "Status": "received",
        "Direction": "from_sim",
        "DeviceIp": address,
        "DevicePort": "6969",
        "PayloadType": "binary",
        "Payload": received["payload"],
    }
    assert webhooks[binary["sid"]]["Payload"] == "AP8="


def test_a_fleet_webhook_by_get(api: Api, receiver: Receiver) -> None:
    sim, _ = attached(api, IpCommandsUrl=receiver.url("/get?x=1"), IpCommandsMethod="GET")
    sent = api.post(f"/devices/{sim.sid}/udp", data={"SourcePort": "5", "Text": "ping"}).json()
    advance(api, 0)
    (request,) = receiver.wait_for(1)
    assert request.method == "GET"
    params = signed(api, request)
    assert params["x"] == "1"
    assert params["IpCommandSid"] == sent["sid"]


def test_a_device_datagram_longer_than_1300_bytes_is_truncated(api: Api) -> None:
    sim, _ = attached(api)
    data = bytes(range(256)) * 6
    sent = api.post(f"/devices/{sim.sid}/udp", data={"SourcePort": "5", "Payload": b64(data)})
    assert sent.status_code == 201, sent.text
    assert base64.b64decode(sent.json()["payload"]) == data[:1300]


def test_what_a_device_cannot_send(api: Api) -> None:
    sim = connectable_sim(api)
    path = f"/devices/{sim.sid}/udp"
    before = counts(api)
    assert_error(api.post(path, data={"SourcePort": "5", "Text": "x"}), 400, 20001, "attach")
    attach(api, sim.sid, sim.network_sids[0])
    assert_error(api.post(path, data={"SourcePort": "5"}), 400, 20001, "Payload")
    assert_error(
        api.post(path, data={"SourcePort": "5", "Text": "x", "Payload": "eA=="}),
        400,
        20001,
        "not both",
    )
    assert_error(api.post(path, data={"SourcePort": "5", "Payload": "!!"}), 400, 20001, "Base64")
    assert_error(api.post(path, data={"SourcePort": "0", "Text": "x"}), 400, 20001, "SourcePort")
    assert_error(api.post(path, data={"Text": "x"}), 400, 20001, "SourcePort")
    other = api.new_account()
    assert_error(
        api.request("POST", path, data={"SourcePort": "5", "Text": "x"}, as_=other), 404, 20404
    )
    assert counts(api) == before


# --- the device's real UDP endpoint ----------------------------------------------------------


def test_a_device_binds_to_a_loopback_endpoint(api: Api) -> None:
    sim, _ = attached(api)
    other = connectable_sim(api)
    path = f"/devices/{sim.sid}/udp-binding"
    bound = api.post(path, data={"Port": "40001"})
    assert bound.status_code == 200, bound.text
    assert bound.json()["udp"] == {"host": "127.0.0.1", "port": 40001}
    assert bound.json()["udp_bridge"] is None  # no bridge runs in this process
    assert api.get(f"/devices/{sim.sid}").json()["udp"] == {"host": "127.0.0.1", "port": 40001}
    rebound = api.post(path, data={"Port": "40002", "Host": "127.0.0.2"})
    assert rebound.json()["udp"] == {"host": "127.0.0.2", "port": 40002}

    for host in ("10.0.0.1", "::1", "localhost", "127.0.0.256"):
        assert_error(api.post(path, data={"Port": "1", "Host": host}), 400, 20001, "Host")
    for port in ("0", "65536", "x"):
        assert_error(api.post(path, data={"Port": port}), 400, 20001, "Port")
    assert_error(api.post(path, data={}), 400, 20001, "Port")
    taken = api.post(
        f"/devices/{other.sid}/udp-binding", data={"Port": "40002", "Host": "127.0.0.2"}
    )
    assert_error(taken, 400, 20001, "127.0.0.2:40002")
    stranger = api.new_account()
    assert_error(api.request("POST", path, data={"Port": "1"}, as_=stranger), 404, 20404)

    unbound = api.delete(path)
    assert unbound.status_code == 200, unbound.text
    assert unbound.json()["udp"] is None
    assert api.delete(path).json()["udp"] is None


def test_a_bound_device_gets_its_command_as_a_real_datagram(
    api: Api, udp_socket: socket.socket
) -> None:
    """Without a bridge in this process, the datagram comes from a throwaway socket."""
    sim, _ = attached(api)
    port = udp_socket.getsockname()[1]
    api.post(f"/devices/{sim.sid}/udp-binding", data={"Port": str(port)})
    created = create(
        api, Sim=sim.sid, Payload=b64(b"\x01\x02\x03"), DevicePort="9", PayloadType="binary"
    )
    advance(api, 1)
    data, _ = udp_socket.recvfrom(65535)
    assert data == b"\x01\x02\x03"
    assert fetch(api, created["sid"])["status"] == "sent"
    assert len(inbox(api, sim.sid)) == 1  # the inbox keeps it as well


@pytest.fixture
def bridge(api: Api) -> Iterator[UdpBridge]:
    running = UdpBridge(api.engine, api.clock, api.sids).start()
    try:
        yield running
    finally:
        running.stop()


def test_datagrams_through_the_bridge_both_ways(
    api: Api, bridge: UdpBridge, udp_socket: socket.socket, receiver: Receiver
) -> None:
    sim, address = attached(api, IpCommandsUrl=receiver.url("/mo"))
    port = udp_socket.getsockname()[1]
    bound = api.post(f"/devices/{sim.sid}/udp-binding", data={"Port": str(port)}).json()
    host, bridge_port = bridge.address
    assert bound["udp_bridge"] == {"host": host, "port": bridge_port}
    assert_error(
        api.post(f"/devices/{sim.sid}/udp-binding", data={"Port": str(bridge_port)}),
        400,
        20001,
        "network's own",
    )

    create(api, Sim=sim.sid, Payload="reboot", DevicePort="9")
    advance(api, 1)
    data, sender = udp_socket.recvfrom(65535)
    assert (data, sender) == (b"reboot", bridge.address)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        stranger.sendto(b"who am I", sender)  # no device is bound there: ignored
    udp_socket.sendto(b"\x00ack\xff", sender)
    (mo,) = wait_until(lambda: listed(api, Direction="from_sim"))
    assert mo["status"] == "received"
    assert mo["payload"] == b64(b"\x00ack\xff")
    assert mo["device_port"] == port
    assert mo["device_ip"] == address
    assert mo["sim_sid"] == sim.sid
    advance(api, 0)
    (webhook,) = receiver.wait_for(1)
    assert signed(api, webhook)["IpCommandSid"] == mo["sid"]
    assert len(listed(api, Direction="from_sim")) == 1  # the stranger's came first


def test_the_bridge_drops_datagrams_of_a_detached_device(
    api: Api, bridge: UdpBridge, udp_socket: socket.socket
) -> None:
    sim = connectable_sim(api)
    port = udp_socket.getsockname()[1]
    api.post(f"/devices/{sim.sid}/udp-binding", data={"Port": str(port)})
    assert bridge.received(b"x", "127.0.0.1", port) is None
    assert bridge.received(b"x", "127.0.0.1", port + 1 if port < 65535 else 1) is None
    attach(api, sim.sid, sim.network_sids[0])
    sid = bridge.received(b"x", "127.0.0.1", port)
    assert sid is not None
    assert [c["sid"] for c in listed(api)] == [sid]
