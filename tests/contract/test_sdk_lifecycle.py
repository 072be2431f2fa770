"""A Sim's asynchronous lifecycle through the official `twilio` SDK against a live server
on a manual clock: 202 and `scheduled`, completion when the clock moves, a signed callback
to a real receiver, every lifecycle error as a TwilioRestException, and API calls that do
not wait for a callback receiver that never answers.

One server per backend serves the whole module (`--clock manual`, operator token from the
environment); each test uses its own Sims and sets the progression policy it needs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from fleetsim.inventory.service import Card
from tests.contract.conftest import (
    Live,
)
from tests.contract.test_sdk_scenario import rest_error
from tests.support.receiver import Hang, Receiver

pytestmark = [pytest.mark.live]

CLOCK_START = "2026-01-01T00:00:00Z"
COMPLETION_SECONDS = 3
# A functional bound for one API call while a callback hangs (not a benchmark).
CALL_BOUND_SECONDS = 2.0


@pytest.fixture(scope="module")
def live(manual_live: Live) -> Live:
    return manual_live


def call_control(control: httpx.Client, method: str, path: str, **data: str) -> dict[str, Any]:
    response = control.request(method, path, data=data or None)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def set_sim_policy(control: httpx.Client, policy: str) -> None:
    body = call_control(
        control, "POST", "/control/policies/sim", Policy=policy, Delay=str(COMPLETION_SECONDS)
    )
    assert body["policy"] == policy


def server_now(control: httpx.Client) -> dt.datetime:
    body = call_control(control, "GET", "/control/clock")
    assert body["mode"] == "manual"
    return dt.datetime.fromisoformat(body["now"].replace("Z", "+00:00"))


def fleet(client: Client, name: str) -> str:
    v1 = client.supersim.v1
    profile = v1.network_access_profiles.create(unique_name=f"{name}-profile")
    sid: str = v1.fleets.create(network_access_profile=profile.sid, unique_name=name).sid
    return sid


def register(client: Client, card: Card) -> Any:
    return client.supersim.v1.sims.create(
        iccid=card.iccid, registration_code=card.registration_code
    )


def test_update_is_scheduled_completes_on_the_clock_and_calls_back(
    live: Live, control: httpx.Client, receiver: Receiver
) -> None:
    set_sim_policy(control, "delay")
    v1 = live.client.supersim.v1
    home, other = fleet(live.client, "lifecycle-home"), fleet(live.client, "lifecycle-other")
    sim = register(live.client, live.cards[0])
    asked_at = server_now(control)
    url = receiver.url("/sim-callback")

    updated = v1.sims(sim.sid).update(status="active", fleet=home, callback_url=url)
    assert updated.status == "scheduled"
    assert updated.date_updated == asked_at

    # While scheduled: no Fleet change (83009), no status change (83010), no callback yet.
    rest_error(lambda: v1.sims(sim.sid).update(fleet=other), 400, 83009)
    rest_error(lambda: v1.sims(sim.sid).update(status="inactive"), 400, 83010)
    assert v1.sims(sim.sid).fetch().status == "scheduled"
    assert receiver.requests == []

    # (The server's own worker may run the due job before the advance call does, so the
    # count of jobs the call ran is not asserted; their effects are.)
    call_control(control, "POST", "/control/clock/advance", Seconds=str(COMPLETION_SECONDS + 2))
    completed_at = asked_at + dt.timedelta(seconds=COMPLETION_SECONDS)

    fetched = v1.sims(sim.sid).fetch()
    assert (fetched.status, fetched.fleet_sid) == ("active", home)
    assert fetched.date_updated == completed_at

    (callback,) = receiver.wait_for(1)
    assert (callback.method, callback.path) == ("POST", "/sim-callback")
    assert callback.form["SimSid"] == sim.sid
    assert callback.form["Status"] == "active"
    assert callback.form["FleetSid"] == home
    assert callback.form["AccountSid"] == live.account_sid
    validator = RequestValidator(live.auth_token)
    assert validator.validate(url, callback.form, callback.signature)
    assert not validator.validate(url, {**callback.form, "Status": "ready"}, callback.signature)

    # The errors of a settled Sim.
    rest_error(lambda: v1.sims(sim.sid).update(status="ready"), 400, 83010)
    rest_error(lambda: v1.sims(sim.sid).update(fleet=""), 400, 83008)
    fleetless = register(live.client, live.cards[1])
    rest_error(lambda: v1.sims(fleetless.sid).update(status="active"), 400, 83007)
    rest_error(lambda: v1.sims(fleetless.sid).update(status="ready"), 400, 83007)
    assert v1.sims(fleetless.sid).fetch().status == "new"
    assert v1.sims(sim.sid).fetch().status == "active"


def test_a_receiver_that_never_answers_does_not_delay_api_responses(
    live: Live, control: httpx.Client, receiver: Receiver
) -> None:
    v1 = live.client.supersim.v1
    home = fleet(live.client, "hanging-home")
    sim = register(live.client, live.cards[2])
    others = [register(live.client, card).sid for card in live.cards[3:5]]
    receiver.script(Hang(60))
    set_sim_policy(control, "immediate")
    try:
        # The server's own worker completes the update at once and calls the receiver.
        v1.sims(sim.sid).update(status="active", fleet=home, callback_url=receiver.url())
        receiver.wait_for(1)
        assert receiver.requests[0].form["SimSid"] == sim.sid

        calls: list[Callable[[int], object]] = [
            lambda n: v1.sims(sim.sid).fetch(),
            lambda n: v1.sims.list(limit=20),
            lambda n: v1.sims(sim.sid).update(unique_name=f"hanging-{n}"),
            lambda n: v1.sims(others[n % 2]).fetch(),
        ]
        durations = []
        for number in range(20):
            started = time.perf_counter()
            calls[number % len(calls)](number)
            durations.append(time.perf_counter() - started)
        assert max(durations) < CALL_BOUND_SECONDS, durations
        assert receiver.answered == 0, "the callback hung all along"
        after = v1.sims(sim.sid).fetch()
        assert (after.status, after.unique_name) == ("active", "hanging-18")
    finally:
        receiver.release()
        set_sim_policy(control, "delay")
