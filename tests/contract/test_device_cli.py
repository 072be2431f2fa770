"""`fleetsim device …` against a live server: what a user types in a shell."""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx
import pytest
from click.testing import CliRunner

from fleetsim.cli.main import main
from tests.contract.conftest import Live

pytestmark = [pytest.mark.live]

CLOCK_START = "2026-04-01T00:00:00Z"


@pytest.fixture(scope="module")
def live(manual_live: Live) -> Live:
    return manual_live


def device(live: Live, *args: str) -> tuple[int, Any, str]:
    """Run `fleetsim device ARGS` with the account's credentials in the environment."""
    result = CliRunner().invoke(
        main,
        ["device", "--url", live.base_url, *args],
        env={"FLEETSIM_ACCOUNT_SID": live.account_sid, "FLEETSIM_AUTH_TOKEN": live.auth_token},
    )
    out = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, out, result.stderr


def test_a_device_attaches_uses_data_sends_and_reads_its_inbox(
    live: Live, control: httpx.Client
) -> None:
    v1 = live.client.supersim.v1
    (us,) = v1.networks.list(iso_country="US", limit=1)
    (gb,) = v1.networks.list(iso_country="GB", limit=1)
    profile = v1.network_access_profiles.create(networks=[us.sid])
    fleet = v1.fleets.create(network_access_profile=profile.sid, unique_name="cli-fleet")
    card = live.cards[0]
    sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)
    v1.sims(sim.sid).update(unique_name="cli-tracker", fleet=fleet.sid, status="active")
    advanced = control.post("/control/clock/advance", data={"Seconds": "10"})
    assert advanced.status_code == 200, advanced.text

    code, out, err = device(live, "attach", "cli-tracker", "--network", gb.sid)
    assert code == 1
    assert out["attached"] is False
    assert "attach rejected" in err
    assert "83702" in err

    code, out, _ = device(live, "attach", "cli-tracker", "--network", us.sid)
    assert code == 0
    assert out["attached"] is True
    assert out["device"]["ip_address"].startswith("100.")

    code, out, _ = device(live, "data", "cli-tracker", "--upload", "1000", "--download", "4000")
    assert code == 0
    code, out, _ = device(live, "sms", "cli-tracker", "hello from the field")
    assert code == 0
    assert (out["direction"], out["status"]) == ("from_sim", "received")

    v1.sms_commands.create(sim="cli-tracker", payload="reboot")
    assert control.post("/control/clock/advance", data={"Seconds": "5"}).status_code == 200
    code, out, _ = device(live, "inbox", "cli-tracker")
    assert code == 0
    assert [(m["kind"], m["payload"]) for m in out["messages"]] == [("sms", "reboot")]

    code, out, _ = device(live, "show", "cli-tracker")
    assert code == 0
    assert (out["state"], out["network_sid"]) == ("attached", us.sid)
    code, out, _ = device(live, "detach", "cli-tracker")
    assert (code, out["state"]) == (0, "detached")


def test_errors_say_what_to_do(live: Live) -> None:
    code, _, err = device(live, "show", "no-such-sim")
    assert code == 1
    assert "error 20404" in err
    result = CliRunner().invoke(main, ["device", "--url", live.base_url, "show", "x"], env={})
    assert result.exit_code == 2
    assert "FLEETSIM_ACCOUNT_SID" in result.stderr
    result = CliRunner().invoke(
        main,
        ["device", "--url", "http://127.0.0.1:9", "--account", "AC1", "--token", "t", "show", "x"],
    )
    assert result.exit_code == 1
    assert "Is `fleetsim serve` running" in result.stderr


def test_attach_without_a_network_picks_one_of_the_profiles_as_the_fixture_does(
    live: Live, control: httpx.Client
) -> None:
    v1 = live.client.supersim.v1
    (mx,) = v1.networks.list(iso_country="MX", limit=1)
    profile = v1.network_access_profiles.create(networks=[mx.sid])
    fleet = v1.fleets.create(network_access_profile=profile.sid, unique_name="cli-fleet-mx")
    card = live.cards[1]
    sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)
    v1.sims(sim.sid).update(unique_name="cli-tracker-mx", fleet=fleet.sid, status="active")
    assert control.post("/control/clock/advance", data={"Seconds": "10"}).status_code == 200

    code, out, err = device(live, "attach", "cli-tracker-mx")

    assert code == 0, err
    assert (out["attached"], out["device"]["network_sid"]) == (True, mx.sid)


def test_attach_without_a_network_for_a_sim_without_a_fleet_says_what_is_missing(
    live: Live,
) -> None:
    v1 = live.client.supersim.v1
    card = live.cards[2]
    sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)

    code, _, err = device(live, "attach", sim.sid)

    assert code == 1
    assert "Missing required parameter Network (or Mcc and Mnc)" in err
