"""UsageRecords: totals computed here from what the devices sent, compared with every
Group x Granularity, every filter, paging and defaults (validation and the rate card's dated
prices: test_usage_record_validation.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from fleetsim.billing.rates import parse_rate_card, rate_card
from fleetsim.core.paging import PageRequest
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.usage_records.query import UsageQuery, fetch_records
from tests.api.conftest import Api, assert_error
from tests.api.network_fixtures import advance, attach
from tests.api.test_billing_periods import immediate_updates, move_to

# What the data file (fleetsim/data/rates.csv) says, written out independently.
PRICE_PER_MB = {"US": Decimal("0.10"), "GB": Decimal("0.08")}
DIMENSIONS = {"sim": "sim_sid", "fleet": "fleet_sid", "network": "network_sid"}
DIMENSIONS["isoCountry"] = "iso_country"
GROUPS = [None, "sim", "fleet", "network", "isoCountry"]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Use:
    at: dt.datetime
    sim: str
    fleet: str
    network: str
    country: str
    upload: int
    download: int


@dataclass
class Scenario:
    api: Api
    uses: list[Use]
    sims: list[str]
    fleets: list[str]
    us: str
    gb: str


def build(api: Api) -> Scenario:
    """Two Sims on a US and a GB network over four days; Sim 0 moves to Fleet 1 on day 2."""
    immediate_updates(api)
    us = api.network_sids(1, "US")[0]
    gb = api.network_sids(1, "GB")[0]
    profile = api.post("/v1/NetworkAccessProfiles", data={"Networks": [us, gb]}).json()["sid"]
    fleets = [
        api.post(
            "/v1/Fleets", data={"NetworkAccessProfile": profile, "UniqueName": f"fleet-{n}"}
        ).json()["sid"]
        for n in range(2)
    ]
    sims = []
    for n, card in enumerate(api.cards(2)):
        data = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
        sid = api.post("/v1/Sims", data=data).json()["sid"]
        changed = api.post(
            f"/v1/Sims/{sid}",
            data={"Fleet": fleets[0], "Status": "active", "UniqueName": f"sim-{n}"},
        )
        assert changed.status_code == 202, changed.text
        sims.append(sid)
    advance(api, 10)
    scenario = Scenario(api, [], sims, fleets, us, gb)
    fleet_of = dict.fromkeys(sims, fleets[0])
    network_of: dict[str, str] = {}

    def connect(sim: int, network: str) -> None:
        attach(api, sims[sim], network)
        network_of[sims[sim]] = network

    def use(sim: int, upload: int, download: int) -> None:
        sid = sims[sim]
        data = {"Upload": str(upload), "Download": str(download)}
        response = api.post(f"/devices/{sid}/data", data=data)
        assert response.status_code == 200, response.text
        network = network_of[sid]
        country = "US" if network == us else "GB"
        scenario.uses.append(
            Use(api.clock.now(), sid, fleet_of[sid], network, country, upload, download)
        )

    move_to(api, "2026-02-01T10:15:00Z")
    connect(0, us)
    connect(1, us)
    use(0, 1000, 2000)
    use(1, 300, 400)
    move_to(api, "2026-02-01T11:30:00Z")
    use(0, 500, 0)
    connect(0, gb)
    use(0, 0, 5000)
    move_to(api, "2026-02-02T09:00:00Z")
    moved = api.post(f"/v1/Sims/{sims[0]}", data={"Fleet": fleets[1]})
    assert moved.status_code == 202, moved.text
    advance(api, 0)
    fleet_of[sims[0]] = fleets[1]
    use(0, 700, 800)
    connect(1, gb)
    use(1, 11, 22)
    move_to(api, "2026-02-03T23:59:00Z")
    use(1, 1_500_000, 1_000_005)
    move_to(api, "2026-02-04T01:00:00Z")
    connect(0, us)
    use(0, 5, 5)
    use(1, 3_333, 0)
    return scenario


# --- the expected records, computed from the uses --------------------------------------


def hour_of(value: dt.datetime) -> dt.datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def bucket(value: dt.datetime, granularity: str, start: dt.datetime, end: dt.datetime) -> Any:
    if granularity == "hour":
        return hour_of(value), hour_of(value) + dt.timedelta(hours=1)
    if granularity == "day":
        day = value.replace(hour=0, minute=0, second=0, microsecond=0)
        return day, day + dt.timedelta(days=1)
    return start, end


def key_of(use: Use, group: str | None) -> str | None:
    return {
        "sim": use.sim,
        "fleet": use.fleet,
        "network": use.network,
        "isoCountry": use.country,
    }.get(group or "")


def expected(
    scenario: Scenario,
    *,
    start: dt.datetime,
    end: dt.datetime,
    granularity: str,
    group: str | None,
    match: Callable[[Use], bool] = lambda use: True,
    dimensions: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    totals: dict[tuple[Any, ...], list[Any]] = {}
    if group is None:
        step = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}.get(granularity)
        starts = [start] if step is None else []
        while step is not None and start + len(starts) * step < end:
            starts.append(start + len(starts) * step)
        for first in starts:
            totals[(first, first + step if step else end, None)] = [0, 0, Decimal(0)]
    for use in scenario.uses:
        if not (start <= hour_of(use.at) < end and match(use)):
            continue
        total = totals.setdefault(
            (*bucket(use.at, granularity, start, end), key_of(use, group)), [0, 0, Decimal(0)]
        )
        total[0] += use.upload
        total[1] += use.download
        total[2] += PRICE_PER_MB[use.country] * (use.upload + use.download) / 1_000_000
    records = []
    for (first, last, key), (upload, download, billed) in totals.items():
        record = {
            "period": {"start_time": iso(first), "end_time": iso(last)},
            "account_sid": scenario.api.creds.account_sid,
            "data_upload": upload,
            "data_download": download,
            "data_total": upload + download,
            "data_total_billed": float(billed.quantize(Decimal("0.01"), ROUND_HALF_UP)),
            "billed_unit": "USD",
            "sim_sid": None,
            "fleet_sid": None,
            "network_sid": None,
            "iso_country": None,
            **(dimensions or {}),
        }
        if group is not None:
            record[DIMENSIONS[group]] = key
        records.append(record)
    order_key = DIMENSIONS[group] if group else "sim_sid"
    records.sort(key=lambda r: r[order_key] or "")
    records.sort(key=lambda r: str(r["period"]["start_time"]), reverse=True)
    return records


def listed(api: Api, **params: str) -> list[dict[str, Any]]:
    response = api.get("/v1/UsageRecords", params={**params, "PageSize": "1000"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["next_page_url"] is None
    records: list[dict[str, Any]] = body["usage_records"]
    return records


WINDOWS = {
    "all": ("2026-02-01T10:30:00Z", "2026-02-04T00:00:00Z"),
    "day": ("2026-02-01T00:00:00Z", "2026-02-05T00:00:00Z"),
    "hour": ("2026-02-01T09:00:00Z", "2026-02-04T03:00:00Z"),
}


@pytest.fixture
def scenario(api: Api) -> Scenario:
    return build(api)


# --- totals ----------------------------------------------------------------------------


@pytest.mark.parametrize("granularity", list(WINDOWS))
def test_every_group_matches_what_the_devices_sent(scenario: Scenario, granularity: str) -> None:
    start, end = WINDOWS[granularity]
    for group in GROUPS:
        params = {"Granularity": granularity, "StartTime": start, "EndTime": end}
        if group:
            params["Group"] = group
        want = expected(
            scenario, start=at(start), end=at(end), granularity=granularity, group=group
        )
        assert listed(scenario.api, **params) == want, (granularity, group)
        assert want, "the window should hold usage"


def test_filters_set_their_dimension_and_fleet_means_the_fleet_of_the_moment(
    scenario: Scenario,
) -> None:
    api, (sim0, sim1), (fleet0, fleet1) = scenario.api, scenario.sims, scenario.fleets
    start, end = WINDOWS["day"]
    cases: list[tuple[dict[str, str], Callable[[Use], bool], dict[str, str]]] = [
        ({"Sim": "sim-0"}, lambda u: u.sim == sim0, {"sim_sid": sim0}),
        ({"Sim": sim1}, lambda u: u.sim == sim1, {"sim_sid": sim1}),
        ({"Fleet": "fleet-0"}, lambda u: u.fleet == fleet0, {"fleet_sid": fleet0}),
        ({"Fleet": fleet1}, lambda u: u.fleet == fleet1, {"fleet_sid": fleet1}),
        (
            {"Network": scenario.gb},
            lambda u: u.network == scenario.gb,
            {"network_sid": scenario.gb},
        ),
        ({"IsoCountry": "us"}, lambda u: u.country == "US", {"iso_country": "US"}),
    ]
    for (params, match, dimensions), granularity, group in itertools.product(
        cases, ["day", "all"], GROUPS
    ):
        query = {"Granularity": granularity, "StartTime": start, "EndTime": end, **params}
        if group:
            query["Group"] = group
        want = expected(
            scenario,
            start=at(start),
            end=at(end),
            granularity=granularity,
            group=group,
            match=match,
            dimensions=dimensions,
        )
        assert listed(api, **query) == want, (params, granularity, group)
    # Sim 0 used data in Fleet 0 on day 1 only, in Fleet 1 afterwards.
    by_fleet = listed(
        api, Sim="sim-0", Group="fleet", Granularity="day", StartTime=start, EndTime=end
    )
    assert [(r["period"]["start_time"][:10], r["fleet_sid"]) for r in by_fleet] == [
        ("2026-02-04", fleet1),
        ("2026-02-02", fleet1),
        ("2026-02-01", fleet0),
    ]


def test_billed_amounts_use_each_countrys_price_rounded_half_up(scenario: Scenario) -> None:
    records = listed(
        scenario.api,
        Group="isoCountry",
        StartTime="2026-02-03T00:00:00Z",
        EndTime="2026-02-04T00:00:00Z",
    )
    # 2,500,005 bytes in GB at 0.08 per MB = 0.2000004 -> 0.20
    assert [(r["iso_country"], r["data_total"], r["data_total_billed"]) for r in records] == [
        ("GB", 2_500_005, 0.2)
    ]
    assert rate_card().price_per_mb("US", at("2026-02-01T00:00:00Z")) == PRICE_PER_MB["US"]
    assert rate_card().price_per_mb("GB", at("2026-02-01T00:00:00Z")) == PRICE_PER_MB["GB"]
    assert rate_card().price_per_mb("ZW", at("2026-02-01T00:00:00Z")) == Decimal("0.10")


def _price(country: str, hour: dt.datetime) -> Decimal:
    """The prices of CHANGING_CARD, written out: GB from 11:00 on Feb 1, US from 23:30 on
    Feb 3 (an hour is priced at its start: the 23:00 hour keeps the old US price)."""
    if country == "GB":
        return Decimal("3000") if hour >= at("2026-02-01T11:00:00Z") else Decimal("0.08")
    return Decimal("2000") if hour >= at("2026-02-04T00:00:00Z") else Decimal("100")


CHANGING_CARD = (
    "iso_country,effective_from,price_per_mb\n"
    "*,2020-01-01T00:00:00Z,0.10\nUS,2020-01-01T00:00:00Z,100\nGB,2020-01-01T00:00:00Z,0.08\n"
    "GB,2026-02-01T11:00:00Z,3000\nUS,2026-02-03T23:30:00Z,2000\n"
)


def test_prices_that_change_within_a_day_apply_from_their_hour(scenario: Scenario) -> None:
    """Days in which a price changes are read by the hour, whatever the shape."""
    card = parse_rate_card(CHANGING_CARD)
    api = scenario.api
    with unit_of_work(api.engine, write=False) as session:
        account = session.execute(
            select(Account).where(Account.sid == api.creds.account_sid)
        ).scalar_one()
        for granularity, group in itertools.product(["day", "all"], [None, "isoCountry", "sim"]):
            start, end = (at(t) for t in WINDOWS[granularity])
            query = UsageQuery(account.id, None, None, None, None, group, granularity, start, end)
            page = fetch_records(session, query, PageRequest(page_size=1000), card)
            got = {(r.start, r.iso_country or r.sim_sid): r.billed for r in page.items}
            want: dict[tuple[dt.datetime, str | None], Decimal] = {}
            for use in scenario.uses:
                if not start <= hour_of(use.at) < end:
                    continue
                first = bucket(use.at, granularity, start, end)[0]
                key = {"isoCountry": use.country, "sim": use.sim}.get(group or "")
                cost = _price(use.country, hour_of(use.at)) * (use.upload + use.download)
                want[(first, key)] = want.get((first, key), Decimal(0)) + cost / 1_000_000
            assert got == {
                k: v.quantize(Decimal("0.01"), ROUND_HALF_UP) for k, v in want.items()
            }, (granularity, group)
            assert any(v > 100 for v in got.values())


def test_defaults_are_all_over_the_last_month_to_now(scenario: Scenario) -> None:
    api = scenario.api
    now = api.clock.now()
    month_ago = now.replace(month=now.month - 1)
    (record,) = listed(api)
    assert record == expected(scenario, start=month_ago, end=now, granularity="all", group=None)[0]
    assert record["period"] == {"start_time": "2026-01-04T01:00:00Z", "end_time": iso(now)}
    days = listed(api, Granularity="day")
    assert days[0]["period"] == {
        "start_time": "2026-02-04T00:00:00Z",
        "end_time": "2026-02-05T00:00:00Z",
    }
    assert days[-1]["period"]["start_time"] == "2026-01-05T00:00:00Z"
    assert len(days) == 31
    (only,) = listed(api, EndTime="2026-02-02T00:00:00Z")
    assert only["period"]["start_time"] == "2026-01-02T00:00:00Z"


def test_pages_follow_newest_first_both_ways(scenario: Scenario) -> None:
    api = scenario.api
    start, end = WINDOWS["hour"]
    params = {"Granularity": "hour", "Group": "sim", "StartTime": start, "EndTime": end}
    everything = listed(api, **params)
    assert len(everything) == 8
    body = api.get("/v1/UsageRecords", params={**params, "PageSize": "3"}).json()
    pages = [body]
    while body["meta"]["next_page_url"]:
        body = api.get(_path(body["meta"]["next_page_url"])).json()
        pages.append(body)
    assert [r for page in pages for r in page["usage_records"]] == everything
    assert [len(p["usage_records"]) for p in pages] == [3, 3, 2]
    back = api.get(_path(pages[2]["meta"]["previous_page_url"])).json()
    assert back["usage_records"] == pages[1]["usage_records"]
    assert (
        api.get(_path(pages[1]["meta"]["previous_page_url"])).json()["meta"]["previous_page_url"]
        is None
    )
    bad = api.get("/v1/UsageRecords", params={"PageToken": "PAnonsense"})
    assert_error(bad, 400, 21481)


def test_every_shape_pages_the_same_both_ways(scenario: Scenario) -> None:
    """Pages of two, forward to the end and back to the start, list what one page does."""
    api = scenario.api
    for granularity, group in itertools.product(WINDOWS, GROUPS):
        start, end = WINDOWS[granularity]
        params = {"Granularity": granularity, "StartTime": start, "EndTime": end}
        if group:
            params["Group"] = group
        everything = listed(api, **params)
        body = api.get("/v1/UsageRecords", params={**params, "PageSize": "2"}).json()
        forward = [body]
        while body["meta"]["next_page_url"]:
            body = api.get(_path(body["meta"]["next_page_url"])).json()
            forward.append(body)
        assert [r for page in forward for r in page["usage_records"]] == everything, params
        backward = [body]
        while body["meta"]["previous_page_url"]:
            body = api.get(_path(body["meta"]["previous_page_url"])).json()
            backward.append(body)
        assert [r for page in reversed(backward) for r in page["usage_records"]] == everything


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_other_accounts_see_none_of_it(scenario: Scenario) -> None:
    api = scenario.api
    other = api.new_account()
    (record,) = api.get("/v1/UsageRecords", as_=other).json()["usage_records"]
    assert (record["data_total"], record["account_sid"]) == (0, other.account_sid)
    response = api.get("/v1/UsageRecords", params={"Sim": scenario.sims[0]}, as_=other)
    assert_error(response, 400, 83600, scenario.sims[0])
    response = api.get("/v1/UsageRecords", params={"Fleet": "fleet-0"}, as_=other)
    assert_error(response, 400, 83600, "fleet-0")


def test_ungrouped_buckets_without_usage_are_zero(api: Api) -> None:
    records = listed(
        api, Granularity="hour", StartTime="2026-01-15T00:00:00Z", EndTime="2026-01-15T03:00:00Z"
    )
    assert [
        (r["period"]["start_time"], r["data_total"], r["data_total_billed"]) for r in records
    ] == [
        ("2026-01-15T02:00:00Z", 0, 0.0),
        ("2026-01-15T01:00:00Z", 0, 0.0),
        ("2026-01-15T00:00:00Z", 0, 0.0),
    ]
    assert listed(api, Group="sim") == []
