"""A Sim's status lifecycle over HTTP, with the control API moving the frozen server clock:
every transition rule, the Fleet rules around it, the progression policies, the control
API's own rules, reset, and the order in which due updates complete."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx2 as httpx
import pytest
from sqlalchemy import select

from fleetsim.control.operator import OPERATOR
from fleetsim.core.dates import iso
from fleetsim.db.tables import Sim, SimStatusEvent
from fleetsim.db.uow import unit_of_work
from fleetsim.webhooks.transport import HttpResult
from tests.api.conftest import OPERATOR_TOKEN, Api, assert_error
from tests.api.test_sims import fetch, new_fleet, register, sids_of
from tests.conftest import START


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass
class RecordingTransport:
    """Records callbacks instead of sending them; every one answers 204."""

    sent: list[Sent] = field(default_factory=list)

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> HttpResult:
        self.sent.append(Sent(method, url, headers, body))
        return HttpResult(status_code=204, latency_ms=1)


@dataclass
class Ops:
    """The operator's side of the app the `api` fixture serves."""

    api: Api
    transport: RecordingTransport

    def control(
        self, method: str, path: str, data: dict[str, str] | None = None, *, auth: Any = None
    ) -> httpx.Response:
        return self.api.control(method, path, data, auth=auth)

    def ok(self, method: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.control(method, path, data)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.ok("POST", "/control/clock/advance", {"Seconds": str(seconds)})

    def policy(self, policy: str, delay: float | None = None) -> dict[str, Any]:
        data = {"Policy": policy} | ({} if delay is None else {"Delay": str(delay)})
        return self.ok("POST", "/control/policies/sim", data)

    def jobs(self) -> dict[str, int]:
        counts: dict[str, int] = self.ok("GET", "/control/jobs")["jobs"]
        return counts


@pytest.fixture
def ops(api: Api) -> Ops:
    """The API with an inline worker that records callbacks instead of sending them."""
    transport = RecordingTransport()
    api.use_transport(transport)
    return Ops(api, transport)


# --- helpers ---------------------------------------------------------------------------


def now(api: Api) -> str:
    return iso(api.clock.now())


def later(seconds: float) -> str:
    return iso(START + dt.timedelta(seconds=seconds))


def post_sim(api: Api, sid: str, data: dict[str, str]) -> httpx.Response:
    return api.post(f"/v1/Sims/{sid}", data=data)


def scheduled(api: Api, sid: str, data: dict[str, str]) -> dict[str, Any]:
    """An update that answers 202 with the Sim `scheduled`, updated now."""
    response = post_sim(api, sid, data)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "scheduled"
    assert body["date_updated"] == now(api)
    assert fetch(api, sid) == body
    return body


def immediate(api: Api, sid: str, data: dict[str, str]) -> dict[str, Any]:
    response = post_sim(api, sid, data)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sim_in(ops: Ops, status: str, *, fleet: bool = True) -> tuple[str, str | None]:
    """A Sim in `status` (with a Fleet unless told not), the clock moved on past it;
    returns the Sim and Fleet SIDs."""
    api = ops.api
    (card,) = api.cards(1)
    sid = register(api, card)["sid"]
    fleet_sid = new_fleet(api) if fleet else None
    if fleet_sid is not None:
        immediate(api, sid, {"Fleet": fleet_sid})
    if status != "new":
        scheduled(api, sid, {"Status": status})
        ops.advance(3)
        assert fetch(api, sid)["status"] == status
    ops.advance(1)  # later updates happen at a visibly later time
    return sid, fleet_sid


def assert_refused(
    ops: Ops, sid: str, data: dict[str, str], status: int, code: int, *words: str
) -> None:
    """The update is refused with this error and changes nothing at all."""
    before, jobs = fetch(ops.api, sid), ops.jobs()
    assert_error(post_sim(ops.api, sid, data), status, code, *words)
    assert fetch(ops.api, sid) == before
    assert ops.jobs() == jobs


def history(api: Api, sid: str) -> list[tuple[str, str]]:
    """The Sim's status events, oldest first."""
    with unit_of_work(api.engine, write=False) as session:
        rows = session.execute(
            select(SimStatusEvent.status, SimStatusEvent.occurred_at)
            .join(Sim, Sim.id == SimStatusEvent.sim_id)
            .where(Sim.sid == sid)
            .order_by(SimStatusEvent.id)
        )
        return [(status, iso(at)) for status, at in rows]


# --- transitions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("new", "ready"),
        ("new", "active"),
        ("new", "inactive"),
        ("ready", "active"),
        ("ready", "inactive"),
        ("active", "inactive"),
        ("inactive", "active"),
    ],
)
def test_allowed_transition_is_scheduled_then_completes_after_the_delay(
    ops: Ops, start: str, target: str
) -> None:
    api = ops.api
    sid, fleet_sid = sim_in(ops, start)
    asked_at = now(api)
    body = scheduled(api, sid, {"Status": target})
    assert body["fleet_sid"] == fleet_sid
    assert sids_of(api, {"Status": "scheduled"}) == [sid]
    assert ops.jobs() == ({"pending": 1} if start == "new" else {"done": 1, "pending": 1})

    ops.advance(2)
    sim = fetch(api, sid)
    assert (sim["status"], sim["date_updated"]) == ("scheduled", asked_at)

    ops.advance(1)
    sim = fetch(api, sid)
    assert (sim["status"], sim["fleet_sid"]) == (target, fleet_sid)
    assert sim["date_updated"] == now(api) != asked_at
    assert history(api, sid)[-1] == (target, now(api))
    assert sids_of(api, {"Status": "scheduled"}) == []
    assert sids_of(api, {"Status": target}) == [sid]


@pytest.mark.parametrize("start", ["active", "inactive"])
def test_ready_only_from_new_is_83010(ops: Ops, start: str) -> None:
    sid, _ = sim_in(ops, start)
    assert_refused(ops, sid, {"Status": "ready"}, 400, 83010, "only", "new", "ready")
    data = {"Status": "ready", "UniqueName": "renamed", "Fleet": new_fleet(ops.api)}
    assert_refused(ops, sid, data, 400, 83010, "ready")


def test_active_back_to_new_is_not_an_accepted_value(ops: Ops) -> None:
    sid, _ = sim_in(ops, "active")
    assert_refused(ops, sid, {"Status": "new"}, 400, 20001, "Status")


def test_status_outside_the_update_enum_is_20001(ops: Ops) -> None:
    sid, _ = sim_in(ops, "new")
    for value in ("new", "scheduled", "ACTIVE", ""):
        assert_refused(ops, sid, {"Status": value}, 400, 20001, "Status")


@pytest.mark.parametrize("status", ["ready", "active"])
def test_activation_without_a_fleet_is_83007(ops: Ops, status: str) -> None:
    sid, _ = sim_in(ops, "new", fleet=False)
    assert_refused(ops, sid, {"Status": status}, 400, 83007, "Fleet")


def test_activation_of_an_inactive_sim_without_a_fleet_is_83007(ops: Ops) -> None:
    sid, _ = sim_in(ops, "inactive")
    assert immediate(ops.api, sid, {"Fleet": ""})["fleet_sid"] is None
    assert_refused(ops, sid, {"Status": "active"}, 400, 83007, "Fleet")


@pytest.mark.parametrize("status", ["ready", "active"])
def test_activation_with_a_fleet_in_the_same_request_works(ops: Ops, status: str) -> None:
    api = ops.api
    sid, _ = sim_in(ops, "new", fleet=False)
    fleet_sid = new_fleet(api, "Trucks")
    body = scheduled(api, sid, {"Status": status, "Fleet": "Trucks"})
    assert body["fleet_sid"] == fleet_sid  # a new Sim takes its Fleet at once
    ops.advance(3)
    sim = fetch(api, sid)
    assert (sim["status"], sim["fleet_sid"]) == (status, fleet_sid)


def test_activation_with_an_unknown_fleet_is_83006(ops: Ops) -> None:
    sid, _ = sim_in(ops, "new", fleet=False)
    assert_refused(ops, sid, {"Status": "active", "Fleet": "Nowhere"}, 400, 83006, "Nowhere")


@pytest.mark.parametrize("status", ["ready", "active"])
def test_removing_the_fleet_of_a_connected_sim_is_83008(ops: Ops, status: str) -> None:
    sid, _ = sim_in(ops, status)
    assert_refused(ops, sid, {"Fleet": ""}, 400, 83008, "Fleet")
    assert_refused(ops, sid, {"Fleet": "", "Status": "active"}, 400, 83008, "Fleet")


@pytest.mark.parametrize("status", ["ready", "active"])
def test_removing_the_fleet_while_deactivating_works(ops: Ops, status: str) -> None:
    api = ops.api
    sid, fleet_sid = sim_in(ops, status)
    body = scheduled(api, sid, {"Fleet": "", "Status": "inactive"})
    assert body["fleet_sid"] == fleet_sid  # in force until the update completes
    ops.advance(3)
    sim = fetch(api, sid)
    assert (sim["status"], sim["fleet_sid"]) == ("inactive", None)


def test_removing_the_fleet_of_a_new_or_inactive_sim_is_immediate(ops: Ops) -> None:
    api = ops.api
    for status in ("new", "inactive"):
        sid, _ = sim_in(ops, status)
        jobs = ops.jobs()
        body = immediate(api, sid, {"Fleet": ""})
        assert (body["status"], body["fleet_sid"], body["date_updated"]) == (
            status,
            None,
            now(api),
        )
        assert ops.jobs() == jobs


def test_any_fleet_change_while_scheduled_is_83009(ops: Ops) -> None:
    api = ops.api
    sid, fleet_sid = sim_in(ops, "ready")
    other = new_fleet(api, "Other")
    scheduled(api, sid, {"Status": "active"})
    for data in (
        {"Fleet": other},
        {"Fleet": "Other"},
        {"Fleet": fleet_sid or ""},  # even the Fleet it has
        {"Fleet": ""},
        {"Fleet": other, "Status": "inactive"},
    ):
        assert_refused(ops, sid, data, 400, 83009, "scheduled")


def test_a_status_change_while_scheduled_is_83010(ops: Ops) -> None:
    api = ops.api
    sid, _ = sim_in(ops, "new")
    scheduled(api, sid, {"Status": "active"})
    for status in ("active", "inactive", "ready"):  # even the status it is heading for
        assert_refused(ops, sid, {"Status": status}, 400, 83010, "in progress")
    ops.advance(3)
    assert fetch(api, sid)["status"] == "active"  # the first update still completes


def test_renaming_while_scheduled_is_immediate_and_keeps_the_update(ops: Ops) -> None:
    api = ops.api
    sid, _ = sim_in(ops, "new")
    scheduled(api, sid, {"Status": "active"})
    ops.advance(1)
    body = immediate(api, sid, {"UniqueName": "renamed"})
    assert (body["status"], body["unique_name"], body["date_updated"]) == (
        "scheduled",
        "renamed",
        now(api),
    )
    assert ops.jobs() == {"pending": 1}
    ops.advance(2)
    sim = fetch(api, sid)
    assert (sim["status"], sim["unique_name"]) == ("active", "renamed")


@pytest.mark.parametrize("status", ["ready", "active", "inactive"])
def test_asking_for_the_current_status_is_200_with_no_job(ops: Ops, status: str) -> None:
    api = ops.api
    sid, fleet_sid = sim_in(ops, status)
    jobs = ops.jobs()
    body = immediate(api, sid, {"Status": status, "CallbackUrl": "https://example.com/cb"})
    assert (body["status"], body["fleet_sid"], body["date_updated"]) == (
        status,
        fleet_sid,
        now(api),
    )
    assert ops.jobs() == jobs
    ops.advance(10)
    assert fetch(api, sid)["status"] == status
    assert ops.transport.sent == []  # only scheduled updates call back


@pytest.mark.parametrize("status", ["ready", "active"])
def test_a_fleet_change_of_a_connected_sim_completes_later(ops: Ops, status: str) -> None:
    api = ops.api
    sid, old = sim_in(ops, status)
    new = new_fleet(api, "Buses")
    body = scheduled(api, sid, {"Fleet": "Buses"})
    assert body["fleet_sid"] == old
    ops.advance(2)
    assert fetch(api, sid)["fleet_sid"] == old
    ops.advance(1)
    sim = fetch(api, sid)
    assert (sim["status"], sim["fleet_sid"], sim["date_updated"]) == (status, new, now(api))
    assert sids_of(api, {"Fleet": "Buses"}) == [sid]


def test_a_fleet_change_to_the_same_fleet_of_an_active_sim_is_immediate(ops: Ops) -> None:
    api = ops.api
    sid, fleet_sid = sim_in(ops, "active")
    jobs = ops.jobs()
    body = immediate(api, sid, {"Fleet": fleet_sid or ""})
    assert (body["status"], body["fleet_sid"]) == ("active", fleet_sid)
    assert ops.jobs() == jobs


@pytest.mark.parametrize("status", ["new", "inactive"])
def test_a_fleet_change_of_a_new_or_inactive_sim_is_immediate(ops: Ops, status: str) -> None:
    api = ops.api
    sid, _ = sim_in(ops, status)
    new = new_fleet(api)
    jobs = ops.jobs()
    body = immediate(api, sid, {"Fleet": new})
    assert (body["status"], body["fleet_sid"], body["date_updated"]) == (status, new, now(api))
    assert ops.jobs() == jobs


def test_the_callback_is_called_when_the_update_completes(ops: Ops) -> None:
    api = ops.api
    sid, fleet_sid = sim_in(ops, "new")
    scheduled(api, sid, {"Status": "active", "CallbackUrl": "https://example.com/done"})
    ops.advance(2)
    assert ops.transport.sent == []
    ops.advance(1)
    (sent,) = ops.transport.sent
    assert (sent.method, sent.url) == ("POST", "https://example.com/done")
    assert "X-Twilio-Signature" in sent.headers
    params = dict(parse_qsl((sent.body or b"").decode(), keep_blank_values=True))
    assert params == {
        "AccountSid": api.creds.account_sid,
        "SimSid": sid,
        "SimUniqueName": "",
        "SimIccid": fetch(api, sid)["iccid"],
        "Status": "active",
        "FleetSid": fleet_sid,
        "DateUpdated": now(api),
    }


# --- progression policies --------------------------------------------------------------


def test_default_policy_is_a_three_second_delay(ops: Ops) -> None:
    assert ops.ok("GET", "/control/policies") == {
        "policies": [{"lifecycle": "sim", "policy": "delay", "delay_seconds": 3.0}]
    }


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
    assert ops.ok("GET", "/control/policies")["policies"] == [
        {"lifecycle": "sim", "policy": "delay", "delay_seconds": 10.0}
    ]
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
    assert ops.jobs() == {"done": 1}

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
    assert ops.ok("GET", "/control/policies")["policies"] == [
        {"lifecycle": "sim", "policy": "delay", "delay_seconds": 3.0}
    ]


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
    assert ops.ok("GET", "/control/policies")["policies"][0]["policy"] == "delay"


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
    assert ops.ok("GET", "/control/policies")["policies"][0]["policy"] == "delay"
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
