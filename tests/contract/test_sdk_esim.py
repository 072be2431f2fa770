"""eSIM Profiles and Settings Updates through the official `twilio` SDK
(`client.supersim.v1.esim_profiles`, `.settings_updates`) against a live server on a manual
clock: both reservation flows with the signed callback at a real receiver, the Sim made at
`available` used like any other, the SM-DP+ on the device API, the stock running out
(83500, set with the CLI on the server's database), and an over-the-air update that waits
for the device to attach.

One server per backend serves the module; each test uses its own profiles and Sims.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from fleetsim.cli.main import main
from tests.contract.conftest import ACCOUNT_SID, AUTH_TOKEN, Live, as_dict
from tests.contract.test_sdk_ip_commands import active_sim, advance, attach, ok, server_now
from tests.contract.test_sdk_scenario import rest_error
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.live]

CLOCK_START = "2026-04-01T00:00:00Z"
EID = "89049032005008882600033489000101"
PHONE_EID = "89049032005008882600033489000202"


@pytest.fixture(scope="module")
def live(manual_live: Live) -> Live:
    return manual_live


@pytest.fixture(scope="module")
def http(live: Live) -> Iterator[httpx.Client]:
    with live.http() as client:
        yield client


def cli(database_url: str, *args: str) -> dict[str, Any]:
    """A `fleetsim` command on the server's database, as an operator runs it."""
    result = CliRunner().invoke(main, [*args, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_a_profile_reserved_by_eid_becomes_a_sim_that_works_like_any_other(
    live: Live, http: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    v1 = live.client.supersim.v1
    url = receiver.url("/esim-callback")
    created = v1.esim_profiles.create(eid=EID, callback_url=url, callback_method="POST")
    assert created.sid.startswith("HP")
    assert (created.account_sid, created.status, created.eid) == (ACCOUNT_SID, "new", EID)
    assert (created.sim_sid, created.iccid, created.smdp_plus_address) == (None, None, None)
    assert created.date_created == server_now(control)
    assert created.url == f"{live.base_url}/v1/ESimProfiles/{created.sid}"
    assert as_dict(v1.esim_profiles(created.sid).fetch()) == as_dict(created)

    advance(control, 2)
    assert v1.esim_profiles(created.sid).fetch().status == "reserving"
    advance(control, 2)
    profile = v1.esim_profiles(created.sid).fetch()
    assert profile.status == "available"
    assert profile.smdp_plus_address == "sm-dp-plus.twilio.com"
    assert profile.sim_sid.startswith("HS")
    assert profile.date_updated == server_now(control)

    (request,) = receiver.wait_for(1)
    assert RequestValidator(AUTH_TOKEN).validate(url, request.form, request.signature)
    assert not RequestValidator("0" * 32).validate(url, request.form, request.signature)
    assert request.form["ESimProfileSid"] == profile.sid
    assert (request.form["Status"], request.form["SimSid"]) == ("available", profile.sim_sid)

    # The new Sim: in the account, `new`, then into a Fleet, active, and attached.
    sim = v1.sims(profile.sim_sid).fetch()
    assert (sim.status, sim.iccid, sim.fleet_sid) == ("new", profile.iccid, None)
    assert [s.sid for s in v1.sims.list(iccid=profile.iccid)] == [sim.sid]
    network = v1.networks.list(iso_country="US", limit=1)[0].sid
    nap = v1.network_access_profiles.create(unique_name="esim-nap", networks=[network])
    fleet = v1.fleets.create(network_access_profile=nap.sid, unique_name="esim-fleet")
    v1.sims(sim.sid).update(fleet=fleet.sid, status="active")
    advance(control, 3)
    assert v1.sims(sim.sid).fetch().status == "active"
    assert attach(live, http, sim.sid).startswith("100.")

    # The device's eUICC downloads and installs it from the SM-DP+.
    downloaded = ok(http.post(f"/esim/{EID}/download"))
    assert downloaded["downloaded"] is True
    assert ok(http.post(f"/esim/{EID}/install"))["installed"] is True
    assert v1.esim_profiles(profile.sid).fetch().status == "installed"
    assert [p.sid for p in v1.esim_profiles.list(eid=EID)] == [profile.sid]
    assert [p.sid for p in v1.esim_profiles.list(sim_sid=sim.sid)] == [profile.sid]
    assert profile.sid in [p.sid for p in v1.esim_profiles.list(status="installed")]


def test_an_activation_code_profile_is_claimed_by_any_device(
    live: Live, http: httpx.Client, control: httpx.Client
) -> None:
    v1 = live.client.supersim.v1
    created = v1.esim_profiles.create(generate_matching_id=True)
    assert (created.status, created.eid, created.matching_id) == ("new", None, None)
    advance(control, 4)
    profile = v1.esim_profiles(created.sid).fetch()
    assert profile.status == "available"
    assert profile.activation_code == f"1$SM-DP-PLUS.TWILIO.COM${profile.matching_id}"
    body = ok(http.post(f"/esim/{PHONE_EID}/download", data={"MatchingId": profile.matching_id}))
    assert body["downloaded"] is True
    assert body["esim_profile"]["status"] == "downloaded"

    # The operator makes its installation fail.
    ok(control.post(f"/control/esim/profiles/{profile.sid}/failure", data={"ErrorCode": "8.2.5"}))
    assert ok(http.post(f"/esim/{PHONE_EID}/install"))["installed"] is False
    failed = v1.esim_profiles(profile.sid).fetch()
    assert (failed.status, failed.error_code) == ("failed", "8.2.5")
    assert failed.error_message


def test_an_empty_stock_answers_83500(
    live: Live, control: httpx.Client, module_database_url: str
) -> None:
    v1 = live.client.supersim.v1
    assert cli(module_database_url, "esim", "stock", "--set", "0") == {"remaining": 0}
    assert ok(control.get("/control/esim/stock")) == {"remaining": 0}
    error = rest_error(lambda: v1.esim_profiles.create(eid=EID), 400, 83500)
    assert "No eSIM Profiles are available" in error.msg
    missing = rest_error(lambda: v1.esim_profiles.create(), 400, 20001)
    assert "GenerateMatchingId" in missing.msg
    ok(control.post("/control/esim/stock", data={"Remaining": "10"}))
    assert v1.esim_profiles.create(eid=EID).status == "new"
    assert cli(module_database_url, "esim", "stock") == {"remaining": 9}


def test_an_over_the_air_update_waits_for_the_device_to_attach(
    live: Live, http: httpx.Client, control: httpx.Client, module_database_url: str
) -> None:
    v1 = live.client.supersim.v1
    sim, iccid = active_sim(live, control, 0, "ota-fleet")
    (base,) = v1.settings_updates.list(sim=sim)
    assert (base.status, base.iccid, base.packages[0]["name"]) == (
        "successful",
        iccid,
        "base-settings",
    )
    assert isinstance(base.date_completed, dt.datetime)

    scheduled = cli(
        module_database_url,
        "settings-updates",
        "schedule",
        "--sim",
        sim,
        "--package",
        "multi-imsi",
        "--version",
        "2.0.0",
    )["settings_updates"]
    (update_sid,) = [u["sid"] for u in scheduled]
    advance(control, 600)
    (waiting,) = v1.settings_updates.list(sim=sim, status="scheduled")
    assert (waiting.sid, waiting.date_completed) == (update_sid, None)

    attach(live, http, sim)
    advance(control, 0)
    (running,) = v1.settings_updates.list(sim=sim, status="in-progress")
    assert running.sid == update_sid
    advance(control, 5)
    (done,) = [u for u in v1.settings_updates.list(sim=sim) if u.sid == update_sid]
    assert done.status == "successful"
    assert done.date_completed == server_now(control)
    assert [p["name"] for p in done.packages] == ["base-settings", "multi-imsi"]
