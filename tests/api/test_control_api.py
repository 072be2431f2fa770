"""The control API: progression policies, the operator credential, the clock, reset, and
due order."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from fleetsim.core.dates import iso
from fleetsim.db.tables import Sim, SimStatusEvent
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.accounts.operator import OPERATOR
from tests.api.conftest import OPERATOR_TOKEN, assert_error
from tests.api.lifecycle_fixtures import Ops, history, later, now, scheduled, sim_in
from tests.api.sim_helpers import fetch, register
from tests.conftest import START

# --- progression policies --------------------------------------------------------------


def sim_policy(ops: Ops) -> dict[str, object]:
    """The `sim` entry of GET /control/policies (which lists every lifecycle)."""
    policies: list[dict[str, object]] = ops.ok("GET", "/control/policies")["policies"]
    lifecycles = [p["lifecycle"] for p in policies]
    assert lifecycles == sorted(lifecycles)
    (sim,) = [p for p in policies if p["lifecycle"] == "sim"]
    return sim


def test_default_policy_is_a_three_second_delay(ops: Ops) -> None:
    assert sim_policy(ops) == {"lifecycle": "sim", "policy": "delay", "delay_seconds": 3.0}


def test_immediate_policy_completes_on_the_next_worker_run(ops: Ops) -> None:
    api = ops.api
    assert ops.policy("immediate") == {
        "lifecycle": "sim",
        "policy": "immediate",
        "delay_seconds": 3.0,
    }
    sid, _ = sim_in(ops, "new")
    asked_at = now(api)
    scheduled(api, sid, {"Status": "active"})
    assert fetch(api, sid)["status"] == "scheduled"  # no worker has run yet
    advanced = ops.advance(0)
    assert (advanced["now"], advanced["jobs_run"]) == (asked_at, 1)
    sim = fetch(api, sid)
    assert (sim["status"], sim["date_updated"]) == ("active", asked_at)


def test_delay_policy_with_a_custom_delay(ops: Ops) -> None:
    api = ops.api
    assert ops.policy("delay", 10)["delay_seconds"] == 10.0
    assert sim_policy(ops) == {"lifecycle": "sim", "policy": "delay", "delay_seconds": 10.0}
    sid, _ = sim_in(ops, "new")
    scheduled(api, sid, {"Status": "ready"})
    ops.advance(9.5)
    assert fetch(api, sid)["status"] == "scheduled"
    assert ops.advance(0.5)["jobs_run"] == 1
    assert fetch(api, sid)["status"] == "ready"
    # Changing the policy again keeps the delay unless given.
    assert ops.policy("immediate")["delay_seconds"] == 10.0


def test_manual_policy_waits_for_progress(ops: Ops) -> None:
    api = ops.api
    ops.policy("manual")
    sid, _ = sim_in(ops, "new")
    scheduled(api, sid, {"Status": "active"})
    year = ops.ok("POST", "/control/clock/advance", {"To": "2027-01-15T12:00:00Z"})
    assert (year["now"], year["jobs_run"]) == ("2027-01-15T12:00:00Z", 0)
    assert fetch(api, sid)["status"] == "scheduled"
    assert ops.jobs() == {"pending": 1}

    assert ops.ok("POST", f"/control/lifecycles/sim/{sid}/progress") == {"jobs_run": 1}
    sim = fetch(api, sid)
    assert (sim["status"], sim["date_updated"]) == ("active", "2027-01-15T12:00:00Z")
    # The update ran; what stays pending is the new billing period's rollover.
    assert ops.jobs()["done"] == 1

    again = ops.control("POST", f"/control/lifecycles/sim/{sid}/progress")
    assert_error(again, 404, 20404, sid, "nothing is pending")


def test_progress_completes_a_delayed_update_early(ops: Ops) -> None:
    api = ops.api
    sid, _ = sim_in(ops, "new")
    asked_at = now(api)
    scheduled(api, sid, {"Status": "active"})
    assert ops.ok("POST", f"/control/lifecycles/sim/{sid}/progress") == {"jobs_run": 1}
    sim = fetch(api, sid)
    assert (sim["status"], sim["date_updated"]) == ("active", asked_at)
    assert ops.advance(5)["jobs_run"] == 0


def test_progress_runs_callbacks_too(ops: Ops) -> None:
    api = ops.api
    ops.policy("manual")
    sid, _ = sim_in(ops, "new")
    scheduled(api, sid, {"Status": "active", "CallbackUrl": "https://example.com/cb"})
    assert ops.ok("POST", f"/control/lifecycles/sim/{sid}/progress") == {"jobs_run": 2}
    assert [s.url for s in ops.transport.sent] == ["https://example.com/cb"]


def test_progress_of_a_sim_with_nothing_pending_is_404(ops: Ops) -> None:
    sid, _ = sim_in(ops, "active")
    response = ops.control("POST", f"/control/lifecycles/sim/{sid}/progress")
    assert_error(response, 404, 20404, sid, "nothing is pending")
    unknown = ops.control("POST", "/control/lifecycles/sim/HS" + "0" * 32 + "/progress")
    assert_error(unknown, 404, 20404, "nothing is pending")


def test_progress_of_an_unknown_lifecycle_is_400_naming_it(ops: Ops) -> None:
    sid, _ = sim_in(ops, "new")
    response = ops.control("POST", f"/control/lifecycles/esim/{sid}/progress")
    assert_error(response, 400, 20001, "Lifecycle", "sim")


def test_a_bad_policy_is_400_naming_the_parameter(ops: Ops) -> None:
    for path, data, word in (
        ("/control/policies/sim", {"Policy": "eventually"}, "Policy"),
        ("/control/policies/sim", {}, "Policy"),
        ("/control/policies/esim", {"Policy": "immediate"}, "Lifecycle"),
        ("/control/policies/sim", {"Policy": "delay", "Delay": "-1"}, "Delay"),
        ("/control/policies/sim", {"Policy": "delay", "Delay": "soon"}, "Delay"),
        ("/control/policies/sim", {"Policy": "delay", "Delay": "31622401"}, "Delay"),
    ):
        assert_error(ops.control("POST", path, data), 400, 20001, word)
    assert sim_policy(ops) == {"lifecycle": "sim", "policy": "delay", "delay_seconds": 3.0}


# --- the control API's own rules -------------------------------------------------------


CONTROL_CALLS = [
    ("GET", "/control/clock"),
    ("POST", "/control/sids/seed"),
    ("POST", "/control/lifecycles/sim/HS00000000000000000000000000000000/progress"),
    ("GET", "/control/webhooks"),
    ("POST", "/control/clock/advance"),
    ("POST", "/control/reset"),
    ("GET", "/control/policies"),
    ("POST", "/control/policies/sim"),
    ("GET", "/control/jobs"),
]


@pytest.mark.parametrize("who", ["nobody", "account", "wrong-token", "wrong-user"])
def test_the_control_api_is_for_the_operator_only(ops: Ops, who: str) -> None:
    api = ops.api
    (card,) = api.cards(1)
    sid = register(api, card)["sid"]
    auth = {
        "nobody": None,
        "account": (api.creds.username, api.creds.password),
        "wrong-token": (OPERATOR, "x" + OPERATOR_TOKEN[1:]),
        "wrong-user": (api.creds.username, OPERATOR_TOKEN),
    }[who]
    data = {"Seconds": "60", "Policy": "manual", "Accounts": "delete"}
    for method, path in CONTROL_CALLS:
        if auth is None:
            response = api.client.request(method, path, data=data if method == "POST" else None)
        else:
            response = ops.control(method, path, data if method == "POST" else None, auth=auth)
        assert_error(response, 401, 20003)
    assert fetch(api, sid)["status"] == "new"  # nothing reset
    assert ops.ok("GET", "/control/clock") == {"mode": "manual", "now": iso(START)}
    assert sim_policy(ops)["policy"] == "delay"


def test_the_clock_reads_manual_and_advances_by_seconds_or_to_a_time(ops: Ops) -> None:
    assert ops.ok("GET", "/control/clock") == {"mode": "manual", "now": "2026-01-15T12:00:00Z"}
    assert ops.advance(90) == {"mode": "manual", "now": later(90), "jobs_run": 0}
    to = ops.ok("POST", "/control/clock/advance", {"To": "2026-01-16T00:00:00Z"})
    assert to["now"] == "2026-01-16T00:00:00Z"
    naive = ops.ok("POST", "/control/clock/advance", {"To": "2026-01-16T01:00:00"})
    assert naive["now"] == "2026-01-16T01:00:00Z"  # a time without offset is UTC
    same = ops.ok("POST", "/control/clock/advance", {"To": "2026-01-16T01:00:00Z"})
    assert same["now"] == "2026-01-16T01:00:00Z"


def test_a_bad_advance_is_400_and_leaves_the_clock(ops: Ops) -> None:
    sid, _ = sim_in(ops, "new")
    scheduled(ops.api, sid, {"Status": "active"})
    before = ops.ok("GET", "/control/clock")
    past = iso(ops.api.clock.now() - dt.timedelta(seconds=1))
    for data, words in (
        ({}, ("Seconds", "To")),
        ({"Seconds": "5", "To": "2027-01-01T00:00:00Z"}, ("Seconds", "To")),
        ({"To": past}, ("To", "past")),
        ({"To": "tomorrow"}, ("To", "ISO 8601")),
        ({"Seconds": "-5"}, ("Seconds",)),
        ({"Seconds": "five"}, ("Seconds", "number")),
    ):
        assert_error(ops.control("POST", "/control/clock/advance", data), 400, 20001, *words)
    assert ops.ok("GET", "/control/clock") == before
    assert fetch(ops.api, sid)["status"] == "scheduled"


# --- reset -----------------------------------------------------------------------------


def test_reset_removes_everything_but_keeps_accounts(ops: Ops) -> None:
    api = ops.api
    sid, fleet_sid = sim_in(ops, "active")
    scheduled(api, sid, {"Status": "inactive"})
    ops.policy("manual")
    spare = api.cards(1)[0]
    networks = api.get("/v1/Networks").json()["networks"]

    assert ops.ok("POST", "/control/reset") == {"reset": True, "accounts": "keep"}
    for path, key in (
        ("/v1/Sims", "sims"),
        ("/v1/Fleets", "fleets"),
        ("/v1/NetworkAccessProfiles", "network_access_profiles"),
    ):
        response = api.get(path)  # the account still authenticates
        assert response.status_code == 200, response.text
        assert response.json()[key] == []
    assert_error(api.get(f"/v1/Sims/{sid}"), 404, 20404)
    assert_error(api.get(f"/v1/Fleets/{fleet_sid}"), 404, 20404)
    assert ops.jobs() == {}
    assert sim_policy(ops)["policy"] == "delay"
    data = {"Iccid": spare.iccid, "RegistrationCode": spare.registration_code}
    assert_error(api.post("/v1/Sims", data=data), 400, 83002)  # the cards are gone
    assert api.get("/v1/Networks").json()["networks"] == networks  # the catalogue stays
    assert ops.ok("GET", "/control/clock")["now"] == now(api)  # the clock stays


def test_reset_with_accounts_delete_removes_the_accounts(ops: Ops) -> None:
    api = ops.api
    sim_in(ops, "new")
    assert ops.ok("POST", "/control/reset", {"Accounts": "delete"}) == {
        "reset": True,
        "accounts": "delete",
    }
    assert_error(api.get("/v1/Sims"), 401, 20003)
    assert ops.jobs() == {}  # the operator still authenticates


def test_reset_with_a_bad_accounts_value_is_400(ops: Ops) -> None:
    api = ops.api
    sid, _ = sim_in(ops, "new")
    response = ops.control("POST", "/control/reset", {"Accounts": "some"})
    assert_error(response, 400, 20001, "Accounts")
    assert fetch(api, sid)["status"] == "new"


# --- order ------------------------------------------------------------------------------


def test_due_updates_complete_in_due_order(ops: Ops) -> None:
    api = ops.api
    sims = {delay: sim_in(ops, "new")[0] for delay in (5, 1, 3)}
    asked_at = api.clock.now()
    for delay, sid in sims.items():
        ops.policy("delay", delay)
        scheduled(api, sid, {"Status": "active"})
    assert ops.advance(10)["jobs_run"] == 3
    for delay, sid in sims.items():
        at = iso(asked_at + dt.timedelta(seconds=delay))
        assert fetch(api, sid)["date_updated"] == at
        assert [status for status, _ in history(api, sid)] == ["new", "active"]
        assert history(api, sid)[-1] == ("active", at)
    with unit_of_work(api.engine, write=False) as session:
        order = session.execute(
            select(Sim.sid)
            .join(SimStatusEvent, SimStatusEvent.sim_id == Sim.id)
            .where(SimStatusEvent.status == "active")
            .order_by(SimStatusEvent.id)
        ).scalars()
        assert list(order) == [sims[1], sims[3], sims[5]]
