"""Billing periods: when they open, how long they run (month ends, leap years), what each
status change does to them, and the BillingPeriods list (the current or most recent one)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fleetsim.billing.periods import add_months
from fleetsim.core.dates import iso
from fleetsim.db.tables import BillingPeriod, Sim
from fleetsim.db.uow import unit_of_work
from tests.api.conftest import BASE, Api
from tests.api.network_fixtures import advance

FIXTURE_SHAPES = Path(__file__).parents[1] / "contract" / "fixture_shapes.json"


# --- helpers ---------------------------------------------------------------------------


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def move_to(api: Api, when: str) -> None:
    response = api.control("POST", "/control/clock/advance", {"To": when})
    assert response.status_code == 200, response.text


def immediate_updates(api: Api) -> None:
    """Sim updates complete when the worker next runs, at the request's time."""
    response = api.control("POST", "/control/policies/sim", {"Policy": "immediate"})
    assert response.status_code == 200, response.text


def new_sim(api: Api) -> str:
    """A registered Sim in a new Fleet, still `new`."""
    profile = api.post("/v1/NetworkAccessProfiles", data={}).json()["sid"]
    fleet = api.post("/v1/Fleets", data={"NetworkAccessProfile": profile}).json()["sid"]
    (card,) = api.cards(1)
    created = api.post(
        "/v1/Sims", data={"Iccid": card.iccid, "RegistrationCode": card.registration_code}
    )
    assert created.status_code == 201, created.text
    sid: str = created.json()["sid"]
    assert api.post(f"/v1/Sims/{sid}", data={"Fleet": fleet}).status_code == 200
    return sid


def set_status(api: Api, sid: str, status: str) -> None:
    """Change the status; with immediate updates it takes effect at the current time."""
    response = api.post(f"/v1/Sims/{sid}", data={"Status": status})
    assert response.status_code == 202, response.text
    advance(api, 0)
    assert api.get(f"/v1/Sims/{sid}").json()["status"] == status


def listed(api: Api, sid: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/Sims/{sid}/BillingPeriods")
    assert response.status_code == 200, response.text
    periods: list[dict[str, Any]] = response.json()["billing_periods"]
    assert len(periods) <= 1
    return periods


def current(api: Api, sid: str) -> tuple[str, str, str]:
    """The listed period as (type, start, end)."""
    (period,) = listed(api, sid)
    return period["period_type"], period["start_time"], period["end_time"]


def all_periods(api: Api, sid: str) -> list[tuple[str, str, str]]:
    """Every period the Sim has had, oldest first (from the database)."""
    with unit_of_work(api.engine, write=False) as session:
        rows = session.execute(
            select(BillingPeriod)
            .join(Sim, Sim.id == BillingPeriod.sim_id)
            .where(Sim.sid == sid)
            .order_by(BillingPeriod.start_time, BillingPeriod.id)
        ).scalars()
        return [(p.period_type, iso(p.start_time), iso(p.end_time)) for p in rows]


# --- the calendar ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2027-01-31T10:00:00Z", 1, "2027-02-28T10:00:00Z"),
        ("2028-01-31T10:00:00Z", 1, "2028-02-29T10:00:00Z"),
        ("2028-02-29T23:59:59Z", 12, "2029-02-28T23:59:59Z"),
        ("2028-02-29T23:59:59Z", 48, "2032-02-29T23:59:59Z"),
        ("2026-12-15T00:00:00Z", 1, "2027-01-15T00:00:00Z"),
        ("2026-11-30T08:00:00Z", 3, "2027-02-28T08:00:00Z"),
        ("2026-03-31T08:00:00Z", 1, "2026-04-30T08:00:00Z"),
    ],
)
def test_a_calendar_month_keeps_the_day_or_clamps_to_the_last(
    start: str, months: int, expected: str
) -> None:
    assert iso(add_months(utc(start), months)) == expected


# --- opening, rolling, the list ------------------------------------------------------


def test_a_new_sim_has_no_period_and_the_first_opens_with_ready(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    advance(api, 3600)
    assert listed(api, sid) == []
    set_status(api, sid, "ready")
    now = api.clock.now()
    response = api.get(f"/v1/Sims/{sid}/BillingPeriods").json()
    (period,) = response["billing_periods"]
    assert period == {
        "sid": period["sid"],
        "account_sid": api.creds.account_sid,
        "sim_sid": sid,
        "period_type": "ready",
        "start_time": iso(now),
        "end_time": iso(add_months(now, 1)),
        "date_created": iso(now),
        "date_updated": iso(now),
    }
    assert period["sid"].startswith("HB")
    assert len(period["sid"]) == 34
    assert response["meta"]["key"] == "billing_periods"
    assert response["meta"]["url"] == f"{BASE}/v1/Sims/{sid}/BillingPeriods?PageSize=50&Page=0"
    assert response["meta"]["next_page_url"] is None


def test_the_listed_period_has_twilios_fixture_shape(api: Api) -> None:
    shapes = json.loads(FIXTURE_SHAPES.read_text("utf-8"))["responses"]
    recorded = [
        s for s in shapes if s["resource"] == "sims/billing_periods" and s["keys"] is not None
    ]
    assert recorded
    immediate_updates(api)
    sid = new_sim(api)
    set_status(api, sid, "active")
    body = api.get(f"/v1/Sims/{sid}/BillingPeriods").json()
    for shape in recorded:
        assert sorted(body["billing_periods"][0]) == shape["keys"]
        assert sorted(body["meta"]) == shape["meta_keys"]


def test_active_periods_roll_over_month_ends_keeping_the_31st(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    move_to(api, "2027-01-31T10:00:00Z")
    set_status(api, sid, "active")
    assert current(api, sid) == ("active", "2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z")
    move_to(api, "2027-02-28T09:59:59Z")
    assert current(api, sid) == ("active", "2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z")
    move_to(api, "2027-02-28T10:00:00Z")
    assert current(api, sid) == ("active", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z")
    move_to(api, "2027-05-01T00:00:00Z")
    assert all_periods(api, sid) == [
        ("active", "2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z"),
        ("active", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z"),
        ("active", "2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z"),
        ("active", "2027-04-30T10:00:00Z", "2027-05-31T10:00:00Z"),
    ]
    assert current(api, sid) == ("active", "2027-04-30T10:00:00Z", "2027-05-31T10:00:00Z")


def test_a_period_from_january_31_of_a_leap_year_ends_on_february_29(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    move_to(api, "2028-01-31T23:30:00Z")
    set_status(api, sid, "active")
    assert current(api, sid) == ("active", "2028-01-31T23:30:00Z", "2028-02-29T23:30:00Z")
    move_to(api, "2028-03-01T00:00:00Z")
    assert current(api, sid) == ("active", "2028-02-29T23:30:00Z", "2028-03-31T23:30:00Z")


def test_a_period_starting_on_february_29_ends_on_march_29(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    move_to(api, "2028-02-29T12:00:00Z")
    set_status(api, sid, "active")
    assert current(api, sid) == ("active", "2028-02-29T12:00:00Z", "2028-03-29T12:00:00Z")


def test_ready_active_inactive_active(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    move_to(api, "2026-02-01T00:00:00Z")
    set_status(api, sid, "ready")
    assert current(api, sid) == ("ready", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")

    move_to(api, "2026-02-10T06:00:00Z")
    set_status(api, sid, "active")  # closes the ready period, opens an active one
    assert current(api, sid) == ("active", "2026-02-10T06:00:00Z", "2026-03-10T06:00:00Z")

    move_to(api, "2026-02-20T00:00:00Z")
    set_status(api, sid, "inactive")  # the period runs on to its end...
    assert current(api, sid) == ("active", "2026-02-10T06:00:00Z", "2026-03-10T06:00:00Z")
    move_to(api, "2026-04-20T00:00:00Z")  # ...and none follows while inactive
    assert current(api, sid) == ("active", "2026-02-10T06:00:00Z", "2026-03-10T06:00:00Z")

    move_to(api, "2026-04-25T08:00:00Z")
    set_status(api, sid, "active")  # a new period, starting now
    assert current(api, sid) == ("active", "2026-04-25T08:00:00Z", "2026-05-25T08:00:00Z")
    move_to(api, "2026-05-25T08:00:00Z")
    assert all_periods(api, sid) == [
        ("ready", "2026-02-01T00:00:00Z", "2026-02-10T06:00:00Z"),
        ("active", "2026-02-10T06:00:00Z", "2026-03-10T06:00:00Z"),
        ("active", "2026-04-25T08:00:00Z", "2026-05-25T08:00:00Z"),
        ("active", "2026-05-25T08:00:00Z", "2026-06-25T08:00:00Z"),
    ]


def test_inactive_and_active_again_within_a_period_keeps_it(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    move_to(api, "2026-03-01T00:00:00Z")
    set_status(api, sid, "active")
    move_to(api, "2026-03-05T00:00:00Z")
    set_status(api, sid, "inactive")
    move_to(api, "2026-03-09T00:00:00Z")
    set_status(api, sid, "active")
    move_to(api, "2026-04-02T00:00:00Z")
    assert all_periods(api, sid) == [
        ("active", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
        ("active", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"),
    ]


def test_inactive_at_the_end_of_a_period_opens_none(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    move_to(api, "2026-03-01T00:00:00Z")
    set_status(api, sid, "active")
    move_to(api, "2026-03-31T23:59:59Z")
    set_status(api, sid, "inactive")
    move_to(api, "2026-06-01T00:00:00Z")
    assert all_periods(api, sid) == [("active", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")]


def test_ready_periods_roll_monthly_until_the_sim_becomes_active(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    move_to(api, "2026-01-31T00:00:00Z")
    set_status(api, sid, "ready")
    move_to(api, "2026-03-15T00:00:00Z")
    assert current(api, sid) == ("ready", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z")


def test_a_status_change_going_through_scheduled_opens_the_period_on_completion(
    api: Api,
) -> None:
    sid = new_sim(api)  # the default policy: updates complete 3 s later
    response = api.post(f"/v1/Sims/{sid}", data={"Status": "active"})
    assert response.status_code == 202
    assert listed(api, sid) == []
    advance(api, 3)
    done = iso(api.clock.now())
    assert current(api, sid)[:2] == ("active", done)


def test_the_list_of_a_foreign_sim_is_404(api: Api) -> None:
    immediate_updates(api)
    sid = new_sim(api)
    set_status(api, sid, "active")
    other = api.new_account()
    response = api.get(f"/v1/Sims/{sid}/BillingPeriods", as_=other)
    assert response.status_code == 404
