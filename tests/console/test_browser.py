"""The console in a real browser: a user's first session end to end, on a live server with a
manual clock (advanced through the control API), on both backends.

Sign in; create a Network Access Profile and a Fleet; register and activate a Sim; send it
an SMS Command and see it in the device's inbox; use data and see the usage chart and its
totals agree with /v1/UsageRecords; a webhook that failed every attempt, re-delivered; a
bulk move with its progress; a narrow screen; and another account that sees none of it.
Screenshots of the main pages land in artifacts/console/.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from fleetsim.resources.accounts.operator import OPERATOR
from tests.contract.conftest import CREDENTIALS_ENV, Live, live_server
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.live]

CLOCK_START = "2026-03-10T08:00:00"
OPERATOR_TOKEN = "console0operator0token"
WAIT_MS = 15_000


@pytest.fixture
def console_live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    with live_server(
        database_url,
        tmp_path,
        seed=31,
        env={**CREDENTIALS_ENV, "FLEETSIM_OPERATOR_TOKEN": OPERATOR_TOKEN},
        extra_args=["--clock", "manual", "--clock-start", CLOCK_START],
    ) as live:
        yield live


def _advance(live: Live, seconds: int) -> None:
    response = httpx.post(
        f"{live.base_url}/control/clock/advance",
        data={"Seconds": str(seconds)},
        auth=(OPERATOR, OPERATOR_TOKEN),
        timeout=60.0,
    )
    assert response.status_code == 200, response.text


def _other_account(live: Live) -> dict[str, str]:
    """A second account, made with the CLI as an operator would."""
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "fleetsim",
            "accounts",
            "create",
            "--friendly-name",
            "Other",
            "--database-url",
            live.server.database_url,
        ],
        cwd=live.server.workdir,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    account: dict[str, str] = json.loads(made.stdout)
    return account


def _sign_in(page: Page, base_url: str, sid: str, token: str) -> None:
    page.goto(f"{base_url}/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next=/console$"))
    page.get_by_label("Account SID").fill(sid)
    page.get_by_label("Auth Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Overview")


def _sid_in_url(page: Page, prefix: str) -> str:
    found = re.search(rf"/({prefix}[0-9a-f]{{32}})", page.url)
    assert found, page.url
    return found.group(1)


def test_a_first_session_in_the_console(
    console_live: Live, browser: Browser, artifacts: Path, database_url: str
) -> None:
    live, base = console_live, console_live.base_url
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("dialog", lambda dialog: dialog.accept())
    with Receiver() as receiver:
        # Every attempt of the first delivery fails (6 attempts), then the receiver accepts.
        receiver.script(500, 500, 500, 500, 500, 500)

        _sign_in(page, base, live.account_sid, live.auth_token)
        page.screenshot(path=artifacts / f"overview-empty-{backend}.png", full_page=True)

        # A Network Access Profile with two US networks.
        page.goto(f"{base}/console/network-access-profiles?country=US")
        page.locator("#create-profile input[name=unique_name]").fill("browser-profile")
        options = page.locator("#create-profile select[name=network] option")
        chosen = [options.nth(0).get_attribute("value"), options.nth(1).get_attribute("value")]
        page.locator("#create-profile select[name=network]").select_option(chosen)
        page.get_by_role("button", name="Create profile").click()
        profile_sid = _sid_in_url(page, "HA")
        expect(page.locator("#profile-networks tr")).to_have_count(2)

        # A Fleet on it whose SMS Commands go to the receiver.
        page.goto(f"{base}/console/fleets")
        form = page.locator("#create-fleet")
        form.locator("input[name=unique_name]").fill("browser-fleet")
        form.locator("select[name=network_access_profile]").select_option(profile_sid)
        form.locator("input[name=data_limit]").fill("50")
        form.locator("input[name=sms_commands_url]").fill(receiver.url("/sms"))
        page.get_by_role("button", name="Create Fleet").click()
        fleet_sid = _sid_in_url(page, "HF")
        expect(page.locator("h1")).to_contain_text("browser-fleet")
        page.screenshot(path=artifacts / f"fleet-{backend}.png", full_page=True)

        # Register a card, put it in the Fleet, activate it: scheduled, then active.
        card = live.cards[0]
        page.goto(f"{base}/console/sims")
        page.locator("#register-sim input[name=iccid]").fill(card.iccid)
        page.locator("#register-sim input[name=registration_code]").fill(card.registration_code)
        page.get_by_role("button", name="Register").click()
        sim_sid = _sid_in_url(page, "HS")
        expect(page.locator("#sim-status")).to_contain_text("new")
        page.locator("#move-fleet select").select_option(fleet_sid)
        page.locator("#move-fleet button").click()
        expect(page.locator("#sim-summary")).to_contain_text("browser-fleet")
        page.locator("#activate").click()
        expect(page.locator("#sim-status")).to_contain_text("scheduled → active")
        _advance(live, 10)
        page.reload()
        expect(page.locator("#sim-status")).to_have_text("active")
        expect(page.locator("#status-history")).to_contain_text("active")

        # An SMS Command, waiting for the device; the device attaches and receives it.
        page.locator("#send-sms input[name=payload]").fill("ping from the console")
        page.locator("#send-sms button").click()
        expect(page.locator("#commands")).to_contain_text("ping from the console")
        page.goto(f"{base}/console/sims/{sim_sid}/device")
        page.locator("#attach button").click()
        expect(page.locator("#device-result")).to_contain_text("Attached: 100.64.")
        _advance(live, 5)
        # The live panel polls: the command shows up without a reload.
        expect(page.locator("#device-inbox")).to_contain_text("ping from the console")

        # 3,000,000 bytes down, then an SMS from the device (its webhook fails).
        page.locator("#use-data input[name=download]").fill("3000000")
        page.locator("#use-data button").click()
        expect(page.locator("#device-result")).to_have_text(
            "Used 0 bytes up and 3,000,000 bytes down."
        )
        page.locator("#device-sms input[name=body]").fill("hello from the device")
        page.locator("#device-sms button").click()
        expect(page.locator("#device-result")).to_contain_text("Sent SMS Command HC")
        page.screenshot(path=artifacts / f"device-{backend}.png", full_page=True)
        _advance(live, 900)
        assert len(receiver.wait_for(6)) == 6

        # The usage chart per Fleet and its totals agree with /v1/UsageRecords.
        page.goto(f"{base}/console/usage?group=fleet&granularity=day&days=7")
        expect(page.locator("svg.usage-chart polyline.series")).to_have_count(1)
        expect(page.locator("#usage-totals .series-name")).to_have_text("browser-fleet")
        expect(page.locator("#usage-grand-total")).to_have_text("3,000,000")
        records = httpx.get(
            f"{base}/v1/UsageRecords",
            params={"Group": "fleet", "Granularity": "all"},
            auth=(live.account_sid, live.auth_token),
        ).json()["usage_records"]
        assert [(r["fleet_sid"], r["data_total"]) for r in records] == [(fleet_sid, 3_000_000)]
        page.screenshot(path=artifacts / f"usage-{backend}.png", full_page=True)

        # The failed delivery: six attempts of 500; re-delivered, it succeeds.
        page.goto(f"{base}/console/webhooks?state=failed")
        page.locator("#webhooks-table a").first.click()
        expect(page.locator("#webhook-state")).to_have_text("failed")
        expect(page.locator("#webhook-attempts .status-code")).to_have_text(["500"] * 6)
        expect(page.locator("#webhook-payload")).to_contain_text("hello from the device")
        page.get_by_role("button", name="Re-deliver now").click()
        expect(page.locator("#webhook-state")).to_have_text(re.compile("pending|delivered"))
        _advance(live, 1)
        page.reload()
        expect(page.locator("#webhook-state")).to_have_text("delivered")
        expect(page.locator("#webhook-attempts .status-code").last).to_have_text("200")
        assert receiver.wait_for(7)[6].form["Payload"] == "hello from the device"
        page.screenshot(path=artifacts / f"webhook-{backend}.png", full_page=True)

    # The overview: one active Sim, the data used this month, the command.
    page.goto(f"{base}/console")
    expect(page.locator('[data-status="active"]')).to_have_text("1")
    expect(page.locator("#data-this-month")).to_have_text("3.0 MB")
    page.screenshot(path=artifacts / f"overview-{backend}.png", full_page=True)

    # Two more cards, registered through the API, moved to the Fleet in bulk.
    with live.http() as api:
        more = [
            api.post(
                "/v1/Sims", data={"Iccid": c.iccid, "RegistrationCode": c.registration_code}
            ).json()["sid"]
            for c in live.cards[1:3]
        ]
    page.goto(f"{base}/console/sims?status=new")
    for sid in more:
        page.get_by_label(f"Select {sid}").check()
    page.locator("#bulk-form select[name=action]").select_option("move")
    page.locator("#bulk-form select[name=fleet]").select_option(fleet_sid)
    page.get_by_role("button", name="Run on selection").click()
    expect(page.locator("#bulk-finished")).to_be_visible()  # the page polls its progress
    expect(page.locator("#bulk-succeeded")).to_have_text("2 succeeded")
    page.screenshot(path=artifacts / f"bulk-{backend}.png", full_page=True)
    page.goto(f"{base}/console/fleets/{fleet_sid}")
    for sid in [sim_sid, *more]:
        expect(page.locator("#sims-table")).to_contain_text(sid)

    # On a phone-sized screen the Sims list fits the width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/console/sims")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / f"sims-narrow-{backend}.png", full_page=True)
    context.close()

    # Another account sees none of it, by list or by direct URL.
    other = _other_account(live)
    other_context = browser.new_context()
    other_page = other_context.new_page()
    other_page.set_default_timeout(WAIT_MS)
    _sign_in(other_page, base, other["sid"], other["auth_token"])
    for path in ("/console/sims", "/console/fleets", "/console/network-access-profiles"):
        other_page.goto(f"{base}{path}")
        body = other_page.content()
        assert sim_sid not in body
        assert fleet_sid not in body
        assert profile_sid not in body
    for path in (f"/console/sims/{sim_sid}", f"/console/fleets/{fleet_sid}"):
        response = other_page.goto(f"{base}{path}")
        assert response is not None
        assert response.status == 404
        expect(other_page.locator("h1")).to_have_text("Not found")
    other_page.screenshot(path=artifacts / f"other-account-404-{backend}.png")
    other_context.close()
