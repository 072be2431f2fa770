"""Data use by devices: where the bytes are counted (hours, networks, Fleets, data
sessions, billing periods, connection events), use spread over time, the Fleet's data
limit (block, unblock by raising it, block by lowering it, unblock by a new period), and
the automatic ready -> active (250 KB, 5 SMS Commands, 3 months)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2 as httpx
from sqlalchemy import select

from fleetsim.billing.periods import add_months
from fleetsim.core.dates import iso
from fleetsim.db.tables import (
    BillingPeriod,
    Fleet,
    Network,
    Sim,
    SimStatusEvent,
    UsageHour,
)
from fleetsim.db.units import transaction
from fleetsim.db.uow import unit_of_work
from fleetsim.network.usage import record_sms
from tests.api.conftest import Api, assert_error
from tests.api.network_fixtures import ConnectedSim, advance, attach, connectable_sim
from tests.api.test_billing_periods import all_periods, current, immediate_updates, move_to

MB = 1_000_000


# --- helpers ---------------------------------------------------------------------------


def use(api: Api, sim: str, **data: int) -> httpx.Response:
    return api.post(f"/devices/{sim}/data", data={k: str(v) for k, v in data.items()})


def used(api: Api, sim: str, **data: int) -> dict[str, Any]:
    response = use(api, sim, **data)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def online(
    api: Api, *, status: str = "active", fleet: dict[str, str] | None = None
) -> ConnectedSim:
    """A Sim in `status`, its device attached to the first network of its profile."""
    immediate_updates(api)
    sim = connectable_sim(api, status=status, networks=2, fleet=fleet)
    attach(api, sim.sid, sim.network_sids[0])
    return sim


def hours(api: Api, sim: str) -> list[tuple[str, str, str, str, int, int]]:
    """The Sim's usage hours: (hour, Fleet, network, country, upload, download)."""
    with unit_of_work(api.engine, write=False) as session:
        rows = session.execute(
            select(UsageHour, Fleet.sid, Network.sid)
            .join(Sim, Sim.id == UsageHour.sim_id)
            .join(Fleet, Fleet.id == UsageHour.fleet_id)
            .join(Network, Network.id == UsageHour.network_id)
            .where(Sim.sid == sim)
            .order_by(UsageHour.hour, UsageHour.id)
        ).all()
        return [
            (iso(h.hour), fleet, network, h.iso_country, h.upload, h.download)
            for h, fleet, network in rows
        ]


def period_use(api: Api, sim: str) -> list[tuple[str, int, int]]:
    """(type, data bytes, SMS count) of every period of the Sim, oldest first."""
    with unit_of_work(api.engine, write=False) as session:
        rows = session.execute(
            select(BillingPeriod)
            .join(Sim, Sim.id == BillingPeriod.sim_id)
            .where(Sim.sid == sim)
            .order_by(BillingPeriod.start_time, BillingPeriod.id)
        ).scalars()
        return [(p.period_type, p.data_bytes, p.sms_count) for p in rows]


def device(api: Api, sim: str) -> dict[str, Any]:
    body: dict[str, Any] = api.get(f"/devices/{sim}").json()
    return body


def updates(api: Api, sim: str) -> list[dict[str, Any]]:
    response = api.get(f"/devices/{sim}/events", params={"PageSize": 1000})
    assert response.status_code == 200, response.text
    return [
        e
        for e in response.json()["connection_events"]
        if e["event_type"].endswith("data-session.updated")
    ]


def status_of(api: Api, sim: str) -> str:
    status: str = api.get(f"/v1/Sims/{sim}").json()["status"]
    return status


def statuses(api: Api, sim: str) -> list[tuple[str, str]]:
    with unit_of_work(api.engine, write=False) as session:
        rows = session.execute(
            select(SimStatusEvent.status, SimStatusEvent.occurred_at)
            .join(Sim, Sim.id == SimStatusEvent.sim_id)
            .where(Sim.sid == sim)
            .order_by(SimStatusEvent.id)
        ).all()
        return [(status, iso(at)) for status, at in rows]


def set_limit(api: Api, fleet: str, megabytes: int) -> None:
    response = api.post(f"/v1/Fleets/{fleet}", data={"DataLimit": str(megabytes)})
    assert response.status_code == 200, response.text


def limit_delay(api: Api, seconds: float) -> None:
    data = {"Policy": "delay", "Delay": str(seconds)}
    response = api.control("POST", "/control/policies/data_limit", data)
    assert response.status_code == 200, response.text


def blocked(api: Api, sim: str) -> bool:
    value: bool = device(api, sim)["data_blocked"]
    return value


# --- where bytes are counted ---------------------------------------------------------


def test_use_is_counted_in_its_hour_network_fleet_session_and_period(api: Api) -> None:
    sim = online(api)
    move_to(api, "2026-02-01T10:15:00Z")
    body = used(api, sim.sid, Upload=1000, Download=2500)
    assert body["counted_upload"] == 1000
    assert body["counted_download"] == 2500
    assert body["device"]["data_session_upload"] == 1000
    assert body["device"]["data_session_download"] == 2500
    used(api, sim.sid, Upload=1)  # same hour: added to the same row
    move_to(api, "2026-02-01T11:00:00Z")
    used(api, sim.sid, Download=7)
    country = api.get(f"/v1/Networks/{sim.network_sids[0]}").json()["iso_country"]
    first = (sim.fleet_sid, sim.network_sids[0], country)
    assert hours(api, sim.sid) == [
        ("2026-02-01T10:00:00Z", *first, 1001, 2500),
        ("2026-02-01T11:00:00Z", *first, 0, 7),
    ]
    assert period_use(api, sim.sid)[-1] == ("active", 3508, 0)
    session = device(api, sim.sid)
    assert (session["data_session_upload"], session["data_session_download"]) == (1001, 2507)


def test_use_goes_to_the_network_and_fleet_of_the_moment(api: Api) -> None:
    sim = online(api)
    move_to(api, "2026-02-01T10:00:00Z")
    used(api, sim.sid, Upload=10)
    attach(api, sim.sid, sim.network_sids[1])  # moves to another network: a new session
    assert device(api, sim.sid)["data_session_upload"] == 0
    used(api, sim.sid, Upload=20)
    profile = api.post("/v1/NetworkAccessProfiles", data={"Networks": sim.network_sids}).json()
    other = api.post("/v1/Fleets", data={"NetworkAccessProfile": profile["sid"]}).json()["sid"]
    moved = api.post(f"/v1/Sims/{sim.sid}", data={"Fleet": other})
    assert moved.status_code == 202
    advance(api, 0)
    used(api, sim.sid, Upload=40)
    rows = {(fleet, network): up for _, fleet, network, _, up, _ in hours(api, sim.sid)}
    assert rows == {
        (sim.fleet_sid, sim.network_sids[0]): 10,
        (sim.fleet_sid, sim.network_sids[1]): 20,
        (other, sim.network_sids[1]): 40,
    }


def test_each_use_is_a_data_session_updated_event(api: Api) -> None:
    sim = online(api)
    used(api, sim.sid, Upload=100, Download=200)
    used(api, sim.sid, Upload=1, Download=2)
    last = updates(api, sim.sid)[-1]
    data = last["data"]
    assert data["data_upload"] == 1
    assert data["data_download"] == 2
    assert data["data_total"] == 3
    assert data["data_session_data_upload"] == 101
    assert data["data_session_data_download"] == 202
    assert data["data_session_data_total"] == 303
    assert data["data_session_update_end_time"] == iso(api.clock.now())
    assert data["data_session_sid"] == device(api, sim.sid)["data_session_sid"]
    assert len(updates(api, sim.sid)) == 2


def test_use_is_refused_when_it_cannot_happen(api: Api) -> None:
    immediate_updates(api)
    new = connectable_sim(api, status="new")
    assert_error(use(api, new.sid, Upload=1), 400, 20001, "new", "active")
    sim = connectable_sim(api)
    assert_error(use(api, sim.sid, Upload=1), 400, 20001, "not attached", "attach")
    attach(api, sim.sid, sim.network_sids[0])
    for bad in ({"Upload": 0}, {}, {"Upload": 0, "Download": 0}):
        assert_error(use(api, sim.sid, **bad), 400, 20001, "Upload")
    assert_error(use(api, sim.sid, Upload=-1), 400, 20001, "Upload")
    assert_error(use(api, sim.sid, Download=10**12 + 1), 400, 20001, "Download")
    assert_error(use(api, sim.sid, Upload=1, Over=31 * 86400 + 1), 400, 20001, "Over")
    assert used(api, sim.sid, Upload=10**12)["counted_upload"] == 10**12
    inactive = api.post(f"/v1/Sims/{sim.sid}", data={"Status": "inactive"})
    assert inactive.status_code == 202
    advance(api, 0)
    assert_error(use(api, sim.sid, Upload=1), 400, 83705, "inactive")
    other = api.new_account()
    foreign = api.post(f"/devices/{sim.sid}/data", data={"Upload": "1"}, as_=other)
    assert_error(foreign, 404, 20404)


def test_concurrent_use_loses_no_byte(api: Api) -> None:
    sim = online(api)

    def burst(_: int) -> list[int]:
        return [use(api, sim.sid, Upload=1, Download=2).status_code for _ in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = [code for batch in pool.map(burst, range(8)) for code in batch]
    assert codes == [200] * 80
    assert [(up, down) for *_, up, down in hours(api, sim.sid)] == [(80, 160)]
    session = device(api, sim.sid)
    assert (session["data_session_upload"], session["data_session_download"]) == (80, 160)
    assert period_use(api, sim.sid)[-1] == ("active", 240, 0)
    assert len(updates(api, sim.sid)) == 80


# --- spread over time ----------------------------------------------------------------


def test_spread_use_is_counted_window_by_window_across_an_hour(api: Api) -> None:
    sim = online(api)
    move_to(api, "2026-02-01T12:30:30Z")
    body = used(api, sim.sid, Upload=3600, Download=36000, Over=3600)
    assert (body["counted_upload"], body["counted_download"]) == (0, 0)
    assert body["windows"] == 61  # 30 whole minutes, 30 s to 13:00, then 30 more minutes
    assert body["ends_at"] == "2026-02-01T13:30:30Z"
    advance(api, 59)
    assert device(api, sim.sid)["data_session_upload"] == 0
    advance(api, 1)  # the first window closes
    assert device(api, sim.sid)["data_session_upload"] == 60
    move_to(api, "2026-02-01T13:00:00Z")
    assert device(api, sim.sid)["data_session_upload"] == 1770
    move_to(api, "2026-02-01T14:00:00Z")
    country = api.get(f"/v1/Networks/{sim.network_sids[0]}").json()["iso_country"]
    where = (sim.fleet_sid, sim.network_sids[0], country)
    assert hours(api, sim.sid) == [
        ("2026-02-01T12:00:00Z", *where, 1770, 17700),
        ("2026-02-01T13:00:00Z", *where, 1830, 18300),
    ]
    windows = updates(api, sim.sid)
    assert len(windows) == 61
    assert sum(w["data"]["data_total"] for w in windows) == 39600
    assert windows[29]["data"]["data_session_update_start_time"] == "2026-02-01T12:59:30Z"
    assert windows[29]["data"]["data_session_update_end_time"] == "2026-02-01T13:00:00Z"
    assert windows[-1]["data"]["data_session_update_end_time"] == "2026-02-01T13:30:30Z"


def test_uneven_bytes_add_up_exactly(api: Api) -> None:
    sim = online(api)
    used(api, sim.sid, Upload=7, Download=1_000_003, Over=600)
    advance(api, 600)
    assert (
        device(api, sim.sid)["data_session_upload"],
        device(api, sim.sid)["data_session_download"],
    ) == (7, 1_000_003)


def test_a_long_spread_has_at_most_1440_steps_cut_at_hours(api: Api) -> None:
    sim = online(api)
    move_to(api, "2026-02-01T00:00:00Z")
    body = used(api, sim.sid, Upload=31 * 86400, Over=31 * 86400)
    # Steps of 31 minutes (1,440 of them) and 744 hour boundaries, 24 of them shared.
    assert body["windows"] == 1440 + 744 - 24
    assert used(api, sim.sid, Upload=1, Over=86400)["windows"] == 1440
    # Over a day: 2-minute steps (hours fall on them), then the last second.
    assert used(api, sim.sid, Upload=1, Over=86401)["windows"] == 721


def test_detaching_drops_the_rest_of_a_spread(api: Api) -> None:
    sim = online(api)
    used(api, sim.sid, Upload=600, Over=600)
    advance(api, 120)
    assert api.post(f"/devices/{sim.sid}/detach").status_code == 200
    attach(api, sim.sid, sim.network_sids[0])
    advance(api, 600)
    assert sum(up for *_, up, _ in hours(api, sim.sid)) == 120


# --- the data limit ------------------------------------------------------------------


def test_going_over_the_limit_blocks_at_once_and_raising_it_unblocks(api: Api) -> None:
    sim = online(api, fleet={"DataLimit": "1"})
    used(api, sim.sid, Upload=MB)  # exactly the limit: still allowed
    assert not blocked(api, sim.sid)
    used(api, sim.sid, Download=1)
    assert blocked(api, sim.sid)
    assert_error(use(api, sim.sid, Upload=1), 400, 20001, "blocked", "DataLimit", "1 MB")
    set_limit(api, sim.fleet_sid, 2)
    assert not blocked(api, sim.sid)
    used(api, sim.sid, Upload=1)
    assert period_use(api, sim.sid)[-1][1] == MB + 2


def test_a_spread_is_stopped_by_a_block_mid_way(api: Api) -> None:
    sim = online(api, fleet={"DataLimit": "1"})
    body = used(api, sim.sid, Upload=3 * MB, Over=3000)  # 60,000 bytes a minute
    assert body["windows"] == 50
    advance(api, 3000)
    # The 17th window takes the Sim over 1 MB; it is blocked then and the rest dropped.
    assert device(api, sim.sid)["data_session_upload"] == 17 * 60_000
    assert blocked(api, sim.sid)
    assert len(updates(api, sim.sid)) == 17


def test_the_block_waits_for_the_propagation_delay(api: Api) -> None:
    sim = online(api, fleet={"DataLimit": "1"})
    limit_delay(api, 300)
    used(api, sim.sid, Upload=MB + 1)
    assert not blocked(api, sim.sid)
    used(api, sim.sid, Upload=5)  # still flowing while the block propagates
    advance(api, 299)
    assert not blocked(api, sim.sid)
    advance(api, 1)
    assert blocked(api, sim.sid)
    set_limit(api, sim.fleet_sid, 5)
    advance(api, 299)
    assert blocked(api, sim.sid)
    advance(api, 1)
    assert not blocked(api, sim.sid)


def test_lowering_the_limit_blocks_sims_already_over_it(api: Api) -> None:
    sim = online(api, fleet={"DataLimit": "3"})
    under = connectable_sim(api)  # another Fleet: untouched
    used(api, sim.sid, Upload=2 * MB)
    limit_delay(api, 60)
    set_limit(api, sim.fleet_sid, 2)  # exactly at the new limit: not over it
    advance(api, 60)
    assert not blocked(api, sim.sid)
    set_limit(api, sim.fleet_sid, 1)
    advance(api, 59)
    assert not blocked(api, sim.sid)
    advance(api, 1)
    assert blocked(api, sim.sid)
    assert not blocked(api, under.sid)


def test_a_change_superseded_before_it_propagates_has_no_effect(api: Api) -> None:
    sim = online(api, fleet={"DataLimit": "3"})
    used(api, sim.sid, Upload=2 * MB)
    limit_delay(api, 60)
    set_limit(api, sim.fleet_sid, 1)
    advance(api, 30)
    set_limit(api, sim.fleet_sid, 3)
    advance(api, 120)
    assert not blocked(api, sim.sid)


def test_a_new_billing_period_unblocks(api: Api) -> None:
    sim = online(api, fleet={"DataLimit": "1"})
    end = current(api, sim.sid)[2]
    used(api, sim.sid, Upload=MB + 1)
    assert blocked(api, sim.sid)
    move_to(api, end)
    assert not blocked(api, sim.sid)
    assert current(api, sim.sid)[1] == end
    used(api, sim.sid, Upload=10)
    assert period_use(api, sim.sid)[-2:] == [("active", MB + 1, 0), ("active", 10, 0)]


# --- ready -> active -----------------------------------------------------------------


def test_ready_becomes_active_at_250000_bytes(api: Api) -> None:
    sim = online(api, status="ready")
    ready_at = current(api, sim.sid)[1]
    used(api, sim.sid, Upload=200_000, Download=49_999)
    assert status_of(api, sim.sid) == "ready"
    advance(api, 60)
    body = used(api, sim.sid, Download=1)
    assert body["sim_status"] == "active"
    now = iso(api.clock.now())
    assert status_of(api, sim.sid) == "active"  # at once, not through scheduled
    assert api.get(f"/v1/Sims/{sim.sid}").json()["date_updated"] == now
    assert statuses(api, sim.sid)[-2:] == [("ready", ready_at), ("active", now)]
    assert all_periods(api, sim.sid) == [
        ("ready", ready_at, now),
        ("active", now, iso(add_months(api.clock.now(), 1))),
    ]
    assert period_use(api, sim.sid) == [("ready", 250_000, 0), ("active", 0, 0)]


def test_one_use_of_250000_bytes_activates(api: Api) -> None:
    sim = online(api, status="ready")
    assert used(api, sim.sid, Upload=250_000)["sim_status"] == "active"


def test_ready_becomes_active_at_the_fifth_sms(api: Api) -> None:
    sim = online(api, status="ready")
    for count in range(1, 6):
        with transaction(api.engine, write=True) as tx:
            row = tx.one("SELECT id FROM sims WHERE sid = ?", (sim.sid,))
            assert row is not None
            record_sms(tx, row[0], now=api.clock.now(), sids=api.sids)
        assert status_of(api, sim.sid) == ("ready" if count < 5 else "active"), count
        advance(api, 10)
    assert period_use(api, sim.sid) == [("ready", 0, 5), ("active", 0, 0)]


def test_ready_becomes_active_after_three_months_to_the_second(api: Api) -> None:
    immediate_updates(api)
    sim = connectable_sim(api, status="new")
    move_to(api, "2026-01-31T08:00:00Z")
    assert api.post(f"/v1/Sims/{sim.sid}", data={"Status": "ready"}).status_code == 202
    advance(api, 0)
    move_to(api, "2026-04-30T07:59:59Z")
    assert status_of(api, sim.sid) == "ready"
    advance(api, 1)
    assert status_of(api, sim.sid) == "active"
    assert statuses(api, sim.sid)[-1] == ("active", "2026-04-30T08:00:00Z")
    assert all_periods(api, sim.sid) == [
        ("ready", "2026-01-31T08:00:00Z", "2026-02-28T08:00:00Z"),
        ("ready", "2026-02-28T08:00:00Z", "2026-03-31T08:00:00Z"),
        ("ready", "2026-03-31T08:00:00Z", "2026-04-30T08:00:00Z"),
        ("active", "2026-04-30T08:00:00Z", "2026-05-30T08:00:00Z"),
    ]


def test_ready_use_adds_up_across_ready_periods(api: Api) -> None:
    sim = online(api, status="ready")
    used(api, sim.sid, Upload=150_000)
    end = current(api, sim.sid)[2]
    move_to(api, end)
    assert current(api, sim.sid)[0] == "ready"
    used(api, sim.sid, Upload=99_999)
    assert status_of(api, sim.sid) == "ready"
    used(api, sim.sid, Upload=1)
    assert status_of(api, sim.sid) == "active"


def test_an_update_in_progress_waits_for_its_completion(api: Api) -> None:
    sim = online(api, status="ready")
    response = api.control("POST", "/control/policies/sim", {"Policy": "delay", "Delay": "5"})
    assert response.status_code == 200
    assert api.post(f"/v1/Sims/{sim.sid}", data={"Status": "inactive"}).status_code == 202
    used(api, sim.sid, Upload=300_000)  # the ready Sim still moves data...
    assert status_of(api, sim.sid) == "scheduled"  # ...but the user's update wins
    advance(api, 5)
    assert status_of(api, sim.sid) == "inactive"
