"""Devices on the simulated network: attach rules, addresses, data sessions, connection
events and their delivery to an account's sink."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from twilio.request_validator import RequestValidator

from tests.api.conftest import Api, assert_error
from tests.api.network_fixtures import advance, attach, connectable_sim
from tests.support.receiver import Receiver

CGNAT = ipaddress.IPv4Network("100.64.0.0/10")


def events_of(api: Api, sim: str) -> list[dict[str, Any]]:
    response = api.get(f"/devices/{sim}/events", params={"PageSize": 1000})
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["connection_events"]
    return events


def short_types(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_type"].removeprefix("com.twilio.iot.supersim.connection.") for e in events]


def test_an_active_sim_attaches_and_gets_an_address(api: Api) -> None:
    sim = connectable_sim(api)
    body = attach(api, sim.sid, sim.network_sids[0])
    assert body["attached"] is True
    assert body["rejection"] is None
    device = body["device"]
    assert device["state"] == "attached"
    assert device["network_sid"] == sim.network_sids[0]
    assert ipaddress.IPv4Address(device["ip_address"]) in CGNAT
    assert device["ip_address"] != "100.64.0.1"
    assert device["data_session_sid"].startswith("PI")
    assert len(device["imei"]) == 15
    listed = api.get(f"/v1/Sims/{sim.sid}/IpAddresses").json()
    assert listed["ip_addresses"] == [
        {"ip_address": device["ip_address"], "ip_address_version": "IPv4"}
    ]
    assert api.get(f"/devices/{sim.sid}").json() == device


def test_a_ready_sim_attaches_too(api: Api) -> None:
    sim = connectable_sim(api, status="ready")
    assert attach(api, sim.sid, sim.network_sids[0])["attached"] is True


def test_attach_by_mcc_and_mnc(api: Api) -> None:
    sim = connectable_sim(api)
    network = api.get(f"/v1/Networks/{sim.network_sids[0]}").json()
    first = network["identifiers"][0]
    response = api.post(
        f"/devices/{sim.sid}/attach", data={"Mcc": first["mcc"], "Mnc": first["mnc"]}
    )
    assert response.json()["device"]["network_sid"] == sim.network_sids[0]
    assert_error(
        api.post(f"/devices/{sim.sid}/attach", data={"Mcc": "999", "Mnc": "99"}), 400, 20001, "MCC"
    )
    assert_error(api.post(f"/devices/{sim.sid}/attach", data={}), 400, 20001, "Network")


def _rejected(api: Api, sim: str, network: str, code: int, *words: str) -> None:
    body = attach(api, sim, network)
    assert body["attached"] is False
    assert body["rejection"]["code"] == code
    assert body["rejection"]["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    for word in words:
        assert word in body["rejection"]["message"]
    assert body["device"]["state"] == "detached"
    assert body["device"]["ip_address"] is None
    assert api.get(f"/v1/Sims/{sim}/IpAddresses").json()["ip_addresses"] == []


def test_a_new_sim_is_rejected_with_83704(api: Api) -> None:
    sim = connectable_sim(api, status="new")
    _rejected(api, sim.sid, sim.network_sids[0], 83704, "new")


def test_an_inactive_sim_is_rejected_with_83705(api: Api) -> None:
    sim = connectable_sim(api, status="inactive")
    _rejected(api, sim.sid, sim.network_sids[0], 83705, "inactive")


def test_a_network_outside_the_profile_is_rejected_with_83702(api: Api) -> None:
    sim = connectable_sim(api)
    _rejected(api, sim.sid, sim.other_network_sid, 83702, sim.other_network_sid, "Network Access")


def test_a_fleet_without_data_is_rejected(api: Api) -> None:
    sim = connectable_sim(api, fleet={"DataEnabled": "false"})
    _rejected(api, sim.sid, sim.network_sids[0], 83702, "Data is disabled")


def test_a_scheduled_sim_is_judged_by_the_status_in_force(api: Api) -> None:
    sim = connectable_sim(api, status="new")
    assert api.post(f"/v1/Sims/{sim.sid}", data={"Status": "active"}).status_code == 202
    _rejected(api, sim.sid, sim.network_sids[0], 83704)
    advance(api, 10)
    assert attach(api, sim.sid, sim.network_sids[0])["attached"] is True


def test_detach_ends_the_session_and_frees_the_address(api: Api) -> None:
    sim = connectable_sim(api, networks=2)
    attach(api, sim.sid, sim.network_sids[0])
    moved = attach(api, sim.sid, sim.network_sids[1])["device"]
    assert moved["network_sid"] == sim.network_sids[1]
    response = api.post(f"/devices/{sim.sid}/detach")
    assert response.status_code == 200
    assert response.json()["state"] == "detached"
    assert api.get(f"/v1/Sims/{sim.sid}/IpAddresses").json()["ip_addresses"] == []
    assert short_types(events_of(api, sim.sid)) == [
        "attachment.accepted",
        "data-session.started",
        "data-session.ended",
        "attachment.accepted",
        "data-session.started",
        "data-session.ended",
    ]
    assert api.post(f"/devices/{sim.sid}/detach").status_code == 200  # already detached


def test_events_carry_the_v2_data_fields(api: Api) -> None:
    sim = connectable_sim(api)
    attach(api, sim.sid, sim.other_network_sid)
    attach(api, sim.sid, sim.network_sids[0])
    rejected, accepted, started = events_of(api, sim.sid)
    assert rejected["data"]["error"]["code"] == 83702
    for event in (accepted, started):
        data = event["data"]
        assert data["event_sid"] == event["sid"]
        assert event["sid"].startswith("EZ")
        assert data["sim_sid"] == sim.sid
        assert data["sim_iccid"] == sim.iccid
        assert data["fleet_sid"] == sim.fleet_sid
        assert data["account_sid"] == api.creds.account_sid
        assert data["network"]["sid"] == sim.network_sids[0]
        assert data["network"]["iso_country"] == "US"
        assert data["data_session_sid"].startswith("PI")
        assert data["timestamp"].endswith("Z")
        assert data["rat_type"] == "4G LTE"
        assert data["apn"] == "super"
        assert len(data["imsi"]) == 15


def test_events_are_delivered_to_the_account_sink_signed(api: Api) -> None:
    sim = connectable_sim(api)
    with Receiver() as receiver:
        path = f"/control/accounts/{api.creds.account_sid}/event-sink"
        response = api.control("POST", path, {"Url": receiver.url("/events")})
        assert response.status_code == 200, response.text
        attach(api, sim.sid, sim.network_sids[0])
        advance(api, 0)
        received = receiver.wait_for(2, timeout=10)
        validator = RequestValidator(api.creds.password)
        for request in received:
            body = request.body.decode()
            assert request.headers["content-type"] == "application/json"
            assert validator.validate(request.url, body, request.headers["x-twilio-signature"])
            (cloud_event,) = json.loads(body)
            assert cloud_event["specversion"] == "1.0"
            assert cloud_event["dataschema"].endswith("SuperSim.ConnectionEvent/2")
            assert cloud_event["id"] == cloud_event["data"]["event_sid"]
        # Deliveries run concurrently, so they may arrive in either order.
        types = sorted(json.loads(r.body)[0]["type"] for r in received)
        assert types == [
            "com.twilio.iot.supersim.connection.attachment.accepted",
            "com.twilio.iot.supersim.connection.data-session.started",
        ]
        assert api.control("DELETE", path).status_code == 200
        api.post(f"/devices/{sim.sid}/detach")
        advance(api, 0)
        assert len(receiver.requests) == 2


def test_the_event_sink_is_for_the_operator(api: Api) -> None:
    path = f"/control/accounts/{api.creds.account_sid}/event-sink"
    auth = (api.creds.username, api.creds.password)
    assert_error(api.control("POST", path, {"Url": "http://x"}, auth=auth), 401, 20003)
    assert_error(api.control("POST", path, {"Url": "ftp://x"}), 400, 20001, "Url")
    assert_error(api.control("POST", path, {}), 400, 20001, "Url")
    unknown = "/control/accounts/AC" + "0" * 32 + "/event-sink"
    assert_error(api.control("POST", unknown, {"Url": "http://x"}), 404, 20404)


def test_another_account_cannot_touch_the_device(api: Api) -> None:
    sim = connectable_sim(api)
    other = api.new_account()
    for method, path in (
        ("GET", f"/devices/{sim.sid}"),
        ("POST", f"/devices/{sim.sid}/attach"),
        ("POST", f"/devices/{sim.sid}/detach"),
        ("GET", f"/devices/{sim.sid}/inbox"),
        ("GET", f"/devices/{sim.sid}/events"),
    ):
        data = {"Network": sim.network_sids[0]} if method == "POST" else None
        assert_error(api.request(method, path, data=data, as_=other), 404, 20404)
    assert api.get(f"/devices/{sim.sid}").json()["state"] == "detached"
    assert_error(api.get(f"/devices/{sim.sid}", auth=None), 401, 20003)


def test_the_inbox_starts_empty_and_is_paged(api: Api) -> None:
    sim = connectable_sim(api)
    body = api.get(f"/devices/{sim.sid}/inbox").json()
    assert body["messages"] == []
    assert body["meta"]["key"] == "messages"


def test_the_inbox_reads_after_an_index_and_the_device_deletes_a_message(api: Api) -> None:
    sim = connectable_sim(api)
    attach(api, sim.sid, sim.network_sids[0])
    for payload in ("one", "two", "three"):
        sent = api.post("/v1/SmsCommands", data={"Sim": sim.sid, "Payload": payload})
        assert sent.status_code == 201, sent.text
    advance(api, 1)
    messages = api.get(f"/devices/{sim.sid}/inbox").json()["messages"]
    # Delivered in the order their jobs ran: the inbox is in index order.
    assert sorted(m["payload"] for m in messages) == ["one", "three", "two"]
    indexes = [m["index"] for m in messages]
    payloads = [m["payload"] for m in messages]
    assert indexes == sorted(indexes)

    after = api.get(f"/devices/{sim.sid}/inbox", params={"After": indexes[0]}).json()
    assert [m["payload"] for m in after["messages"]] == payloads[1:]
    assert api.delete(f"/devices/{sim.sid}/inbox/{indexes[1]}").status_code == 204
    left = api.get(f"/devices/{sim.sid}/inbox").json()["messages"]
    assert [m["payload"] for m in left] == [payloads[0], payloads[2]]

    assert_error(api.delete(f"/devices/{sim.sid}/inbox/{indexes[1]}"), 404, 20404, "inbox")
    assert_error(api.delete(f"/devices/{sim.sid}/inbox/first"), 404, 20404, "first")
    assert_error(api.get(f"/devices/{sim.sid}/inbox", params={"After": "-1"}), 400, 20001, "After")


def test_a_device_sees_the_networks_of_its_fleets_profile(api: Api) -> None:
    sim = connectable_sim(api, networks=2)
    listed = api.get(f"/devices/{sim.sid}/networks").json()["networks"]
    assert sorted(n["sid"] for n in listed) == sorted(sim.network_sids)
    catalogue = api.get(f"/v1/Networks/{listed[0]['sid']}").json()
    assert listed[0]["identifiers"] == catalogue["identifiers"]
    assert listed[0]["friendly_name"] == catalogue["friendly_name"]
    assert api.get(f"/devices/{sim.sid}").json()["sim_status"] == "active"


def test_a_device_without_a_fleet_sees_no_network(api: Api) -> None:
    (card,) = api.cards(1)
    sim = api.post(
        "/v1/Sims", data={"Iccid": card.iccid, "RegistrationCode": card.registration_code}
    ).json()
    assert api.get(f"/devices/{sim['sid']}/networks").json() == {"networks": []}
    assert api.get(f"/devices/{sim['sid']}").json()["sim_status"] == "new"
