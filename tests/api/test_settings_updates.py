"""Settings Updates over HTTP on the frozen clock: the base settings every Sim has from
manufacture, over-the-air updates the operator schedules for a Sim or a Fleet, which wait
for the device to attach and then progress by the engine, and the list's filters."""

from __future__ import annotations

from typing import Any

from fleetsim.contract import schema_properties
from fleetsim.core.dates import iso
from fleetsim.resources.settings_updates.packages import BASE_PACKAGE, package
from tests.api.conftest import Api, assert_error
from tests.api.network_fixtures import advance, attach, connectable_sim
from tests.api.sim_helpers import register, update

UPDATES = "/v1/SettingsUpdates"
KEYS = set(schema_properties("supersim.v1.settings_update"))
STEP = 5  # the settings_update lifecycle's default delay, in seconds


def listed(api: Api, **params: str) -> list[dict[str, Any]]:
    response = api.get(UPDATES, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["settings_updates"]
    for item in items:
        assert set(item) == KEYS
    return items


def schedule(api: Api, **data: str) -> list[dict[str, Any]]:
    response = api.control("POST", "/control/settings-updates", data)
    assert response.status_code == 200, response.text
    updates: list[dict[str, Any]] = response.json()["settings_updates"]
    return updates


def test_a_registered_sim_has_the_base_settings_from_manufacture(api: Api) -> None:
    (card,) = api.cards(1)
    made = iso(api.clock.now())
    advance(api, 60)
    sim = register(api, card)
    (base,) = listed(api, Sim=sim["sid"])
    assert "url" not in base
    assert "account_sid" not in base
    assert base["sid"].startswith("OB")
    assert (base["sim_sid"], base["iccid"], base["status"]) == (
        sim["sid"],
        card.iccid,
        "successful",
    )
    assert base["packages"] == [BASE_PACKAGE]
    assert base["packages"][0]["more_info"].endswith("/settings-packages/base-settings")
    assert base["date_created"] == base["date_updated"] == base["date_completed"] == made

    update(api, sim["sid"], {"UniqueName": "tracker"})
    assert listed(api, Sim="tracker") == [base]
    assert listed(api, Sim="nobody") == []
    assert listed(api, Status="scheduled") == []
    assert listed(api, Status="successful") == [base]
    assert_error(api.get(UPDATES, params={"Status": "done"}), 400, 20001, "Status")
    other = api.new_account()
    assert api.get(UPDATES, as_=other).json()["settings_updates"] == []
    assert api.get(UPDATES, params={"Sim": sim["sid"]}, as_=other).json()["settings_updates"] == []


def test_an_update_waits_for_the_device_then_progresses(api: Api) -> None:
    connected = connectable_sim(api)
    (update_,) = schedule(api, Sim=connected.sid, Package="multi-imsi", Version="2.1.0")
    assert update_["status"] == "scheduled"
    assert update_["date_completed"] is None
    assert update_["packages"] == [BASE_PACKAGE, package("multi-imsi", "2.1.0")]
    assert listed(api, Status="scheduled") == [update_]

    advance(api, 3600)
    assert listed(api, Status="scheduled") == [update_]  # the device is away

    attach(api, connected.sid, connected.network_sids[0])
    advance(api, 0)
    (running,) = listed(api, Status="in-progress")
    assert running["sid"] == update_["sid"]
    assert running["date_updated"] == iso(api.clock.now())

    advance(api, STEP)
    (done,) = listed(api, Status="successful", Sim=connected.sid)[1:]
    assert done["sid"] == update_["sid"]
    assert done["date_completed"] == done["date_updated"] == iso(api.clock.now())

    (second,) = schedule(api, Sim=connected.sid, Package="base-settings", Version="1.1.0")
    assert second["packages"] == [package("multi-imsi", "2.1.0"), package("base-settings", "1.1.0")]
    advance(api, 0)  # attached already: it starts at once
    assert [u["status"] for u in listed(api, Sim=connected.sid)] == [
        "successful",
        "successful",
        "in-progress",
    ]


def test_a_fleet_wide_update_reaches_each_sim_as_its_device_attaches(api: Api) -> None:
    connected = connectable_sim(api)
    (card,) = api.cards(1)
    idle = register(api, card)["sid"]
    update(api, idle, {"Fleet": connected.fleet_sid})
    updates = schedule(api, Fleet=connected.fleet_sid, Package="apn", Version="3", Outcome="failed")
    assert [u["sim_sid"] for u in updates] == [connected.sid, idle]

    attach(api, connected.sid, connected.network_sids[0])
    advance(api, STEP)
    failed = listed(api, Status="failed")
    assert [u["sim_sid"] for u in failed] == [connected.sid]
    assert failed[0]["date_completed"] is None
    assert [u["sim_sid"] for u in listed(api, Status="scheduled")] == [idle]


def test_scheduling_refusals_change_nothing(api: Api) -> None:
    connected = connectable_sim(api)
    before = listed(api)

    def refused(data: dict[str, str], status: int, code: int, *words: str) -> None:
        assert_error(api.control("POST", "/control/settings-updates", data), status, code, *words)

    refused({"Package": "apn", "Version": "1"}, 400, 20001, "Sim", "Fleet")
    both = {"Sim": connected.sid, "Fleet": connected.fleet_sid, "Package": "apn", "Version": "1"}
    refused(both, 400, 20001, "exactly one")
    refused({"Sim": connected.sid, "Version": "1"}, 400, 20001, "Package")
    refused({"Sim": connected.sid, "Package": "apn"}, 400, 20001, "Version")
    refused({"Sim": connected.sid, "Package": "APN!", "Version": "1"}, 400, 20001, "Package")
    refused({"Sim": connected.sid, "Package": "apn", "Version": "v1"}, 400, 20001, "Version")
    outcome = {"Sim": connected.sid, "Package": "apn", "Version": "1", "Outcome": "maybe"}
    refused(outcome, 400, 20001, "Outcome")
    refused({"Sim": "tracker", "Package": "apn", "Version": "1"}, 400, 20001, "Sim")
    refused({"Sim": "HS" + "0" * 32, "Package": "apn", "Version": "1"}, 404, 20404)
    refused({"Fleet": "HF" + "0" * 32, "Package": "apn", "Version": "1"}, 404, 20404)
    empty = api.post("/v1/Fleets", data={"NetworkAccessProfile": connected.profile_sid})
    refused({"Fleet": empty.json()["sid"], "Package": "apn", "Version": "1"}, 400, 20001, "no")
    assert listed(api) == before


def test_a_manual_policy_and_a_detach_hold_an_update_in_progress(api: Api) -> None:
    response = api.control("POST", "/control/policies/settings_update", {"Policy": "manual"})
    assert response.status_code == 200, response.text
    connected = connectable_sim(api)
    network = connected.network_sids[0]
    (held,) = schedule(api, Sim=connected.sid, Package="apn", Version="2")
    attach(api, connected.sid, network)
    advance(api, 3600)
    assert [u["sid"] for u in listed(api, Status="in-progress")] == [held["sid"]]
    path = f"/control/lifecycles/settings_update/{held['sid']}/progress"
    assert api.control("POST", path).status_code == 200
    assert [u["sid"] for u in listed(api, Status="successful")][-1] == held["sid"]

    api.control("POST", "/control/policies/settings_update", {"Policy": "delay", "Delay": "5"})
    (away,) = schedule(api, Sim=connected.sid, Package="apn", Version="3")
    advance(api, 0)
    assert [u["sid"] for u in listed(api, Status="in-progress")] == [away["sid"]]
    assert api.post(f"/devices/{connected.sid}/detach").status_code == 200
    advance(api, 3600)
    assert [u["sid"] for u in listed(api, Status="in-progress")] == [away["sid"]]
    attach(api, connected.sid, network)
    advance(api, 0)
    (done,) = [u for u in listed(api, Sim=connected.sid) if u["sid"] == away["sid"]]
    assert done["status"] == "successful"
    assert done["date_completed"] == iso(api.clock.now())
