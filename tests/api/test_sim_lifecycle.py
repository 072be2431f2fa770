"""A Sim's status lifecycle over HTTP, with the control API moving the frozen server clock:
every transition rule, the Fleet rules around it, the progression policies, the control
API's own rules, reset, and the order in which due updates complete."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from tests.api.lifecycle_fixtures import (
    Ops,
    assert_refused,
    history,
    immediate,
    now,
    scheduled,
    sim_in,
)
from tests.api.sim_helpers import fetch, new_fleet, sids_of

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
