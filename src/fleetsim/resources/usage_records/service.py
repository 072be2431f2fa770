"""UsageRecords: totals of `usage_hours`, per period and optionally per Sim, Fleet,
network or country, newest period first.

The query sums usage per (hour, country[, group]) in portable SQL; periods are folded in
Python (an hour belongs to a period when the hour starts in it), and each hour is priced
by the rate card at its own time and country (see `fleetsim.billing.rates`).

Rules (Twilio's where documented, else the behaviour reference's recommendation):
- `Fleet` means the Fleet the Sim was in when the data was used.
- A dimension (`sim_sid`, `fleet_sid`, `network_sid`, `iso_country`) is set only when
  filtered or grouped by it.
- Ungrouped `all`: exactly one record, for the requested window (zeros when unused).
  Ungrouped `day`/`hour`: every bucket of the window, zero ones included. Grouped: only
  the groups (per bucket) that used data.
- Errors (400): 83600 a bad value or StartTime >= EndTime, or a Sim, Fleet or Network
  that does not resolve; 83601/83602 times off UTC day/hour boundaries for day/hour
  granularity; 83605 StartTime before the start of the current UTC day minus 18 months;
  83603 Group=sim over more than 31 days; 83604 a window over the granularity's maximum
  (all: 18 months, day: 3 months, hour: 31 days), checked in that order.

Deviations: for `all`, an hour counts when it starts inside [StartTime, EndTime) (usage
is kept per hour). Without EndTime, day and hour granularity end at the end of the
current day or hour (not at "now", which would fail the alignment rule). Malformed
StartTime/EndTime and values outside the Group/Granularity enums answer 20001, like
every parameter the contract parser checks. Paging is a keyset over (period start
descending, group key), computed over the whole result for each page (at most 744
buckets ungrouped). `data_total_billed` is rounded half-up to cents per record.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleetsim.billing.rates import rate_card
from fleetsim.core.dates import iso
from fleetsim.core.errors import (
    UsageRecordsInvalidParameter,
    UsageRecordsNotDayAligned,
    UsageRecordsNotHourAligned,
    UsageRecordsPeriodTooLong,
    UsageRecordsSimGroupTooLong,
    UsageRecordsStartTooOld,
)
from fleetsim.core.paging import Cursor, PageRequest
from fleetsim.core.sids import Prefix
from fleetsim.db.paging import Page
from fleetsim.db.scoping import find_by_ref
from fleetsim.db.tables import Account, Fleet, Network, Sim, UsageHour
from fleetsim.network.billing import add_months
from fleetsim.resources.networks.service import find_network

__all__ = ["GRANULARITIES", "GROUPS", "UsageFilters", "UsageRecord", "list_usage_records"]

GROUPS = ("sim", "fleet", "network", "isoCountry")
GRANULARITIES = ("hour", "day", "all")
_HOUR = dt.timedelta(hours=1)
_DAY = dt.timedelta(days=1)
_CENT = Decimal("0.01")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_MAX_MONTHS = {"all": 18, "day": 3}
_MAX_HOURLY = dt.timedelta(days=31)


@dataclass(frozen=True)
class UsageFilters:
    """The request's parameters as given (references not yet resolved)."""

    sim: str | None = None
    fleet: str | None = None
    network: str | None = None
    iso_country: str | None = None
    group: str | None = None
    granularity: str = "all"
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None


@dataclass(frozen=True)
class UsageRecord:
    start: dt.datetime
    end: dt.datetime
    upload: int
    download: int
    billed: Decimal
    currency: str
    sim_sid: str | None
    fleet_sid: str | None
    network_sid: str | None
    iso_country: str | None


@dataclass(frozen=True)
class _Query:
    sim: Sim | None
    fleet: Fleet | None
    network: Network | None
    iso_country: str | None
    group: str | None
    granularity: str
    start: dt.datetime
    end: dt.datetime


def list_usage_records(
    session: Session,
    account: Account,
    *,
    filters: UsageFilters,
    page: PageRequest,
    now: dt.datetime,
) -> Page[UsageRecord]:
    """The account's UsageRecords for `filters`, newest period first, one page of them."""
    query = _resolve(session, account, filters, now)
    return _page(_records(session, account, query), page, query.group)


def _resolve(session: Session, account: Account, f: UsageFilters, now: dt.datetime) -> _Query:
    if f.granularity not in GRANULARITIES:
        raise UsageRecordsInvalidParameter(f"Granularity must be one of {GRANULARITIES}")
    if f.group is not None and f.group not in GROUPS:
        raise UsageRecordsInvalidParameter(f"Group must be one of {GROUPS}")
    iso_country = None
    if f.iso_country is not None:
        if not _COUNTRY.match(f.iso_country):
            raise UsageRecordsInvalidParameter("IsoCountry must be an ISO 3166-1 alpha-2 code")
        iso_country = f.iso_country.upper()
    sim = fleet = network = None
    if f.sim is not None:
        sim = find_by_ref(session, Sim, account.id, f.sim, Prefix.SIM)
        if sim is None:
            raise UsageRecordsInvalidParameter(f"no Super SIM of this account is '{f.sim}'")
    if f.fleet is not None:
        fleet = find_by_ref(session, Fleet, account.id, f.fleet, Prefix.FLEET)
        if fleet is None:
            raise UsageRecordsInvalidParameter(f"no Fleet of this account is '{f.fleet}'")
    if f.network is not None:
        network = find_network(session, f.network)
        if network is None:
            raise UsageRecordsInvalidParameter(f"no Network is '{f.network}'")
    start, end = _window(f, now)
    return _Query(sim, fleet, network, iso_country, f.group, f.granularity, start, end)


def _ceil(value: dt.datetime, step: dt.timedelta) -> dt.datetime:
    floor = value.replace(minute=0, second=0, microsecond=0)
    if step == _DAY:
        floor = floor.replace(hour=0)
    return floor if floor == value else floor + step


def _window(f: UsageFilters, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    step = {"day": _DAY, "hour": _HOUR}.get(f.granularity)
    end = f.end_time or (_ceil(now, step) if step is not None else now)
    start = f.start_time or add_months(end, -1)
    if start >= end:
        raise UsageRecordsInvalidParameter("StartTime must be earlier than EndTime")
    if step is not None and any(_ceil(t, step) != t for t in (start, end)):
        raise UsageRecordsNotDayAligned() if step == _DAY else UsageRecordsNotHourAligned()
    oldest = add_months(now.replace(hour=0, minute=0, second=0, microsecond=0), -18)
    if start < oldest:
        raise UsageRecordsStartTooOld(iso(oldest))
    if f.group == "sim" and end - start > _MAX_HOURLY:
        raise UsageRecordsSimGroupTooLong()
    months = _MAX_MONTHS.get(f.granularity)
    if months is not None and end > add_months(start, months):
        raise UsageRecordsPeriodTooLong(f.granularity, f"{months} months")
    if months is None and end - start > _MAX_HOURLY:
        raise UsageRecordsPeriodTooLong(f.granularity, "31 days")
    return start, end


def _group_column(group: str | None) -> Any:
    return {
        "sim": Sim.sid,
        "fleet": Fleet.sid,
        "network": Network.sid,
        "isoCountry": UsageHour.iso_country,
    }.get(group or "")


def _hours(session: Session, account: Account, q: _Query) -> Iterable[Any]:
    """(hour, country, group key or None, upload, download), summed in SQL."""
    group = _group_column(q.group)
    columns = [UsageHour.hour, UsageHour.iso_country]
    if group is not None and group is not UsageHour.iso_country:
        columns.append(group)
    query = select(*columns, func.sum(UsageHour.upload), func.sum(UsageHour.download)).where(
        UsageHour.account_id == account.id,
        UsageHour.hour >= q.start,
        UsageHour.hour < q.end,
    )
    if q.group == "sim":
        query = query.join(Sim, Sim.id == UsageHour.sim_id)
    elif q.group == "fleet":
        query = query.join(Fleet, Fleet.id == UsageHour.fleet_id)
    elif q.group == "network":
        query = query.join(Network, Network.id == UsageHour.network_id)
    if q.sim is not None:
        query = query.where(UsageHour.sim_id == q.sim.id)
    if q.fleet is not None:
        query = query.where(UsageHour.fleet_id == q.fleet.id)
    if q.network is not None:
        query = query.where(UsageHour.network_id == q.network.id)
    if q.iso_country is not None:
        query = query.where(UsageHour.iso_country == q.iso_country)
    row: Any
    for row in session.execute(query.group_by(*columns)):
        hour, country = row[0], row[1]
        key = row[2] if len(columns) == 3 else (country if group is not None else None)
        yield hour, country, key, int(row[-2] or 0), int(row[-1] or 0)


def _bucket(q: _Query, hour: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if q.granularity == "hour":
        return hour, hour + _HOUR
    if q.granularity == "day":
        day = hour.replace(hour=0)
        return day, day + _DAY
    return q.start, q.end


def _buckets(q: _Query) -> list[tuple[dt.datetime, dt.datetime]]:
    if q.granularity == "all":
        return [(q.start, q.end)]
    step = _HOUR if q.granularity == "hour" else _DAY
    starts = []
    at = q.start
    while at < q.end:
        starts.append((at, at + step))
        at += step
    return starts


def _records(session: Session, account: Account, q: _Query) -> list[UsageRecord]:
    card = rate_card()
    totals: dict[tuple[dt.datetime, dt.datetime, str | None], list[Any]] = {}
    if q.group is None:
        for bucket in _buckets(q):
            totals[(*bucket, None)] = [0, 0, Decimal(0)]
    for hour, country, key, upload, download in _hours(session, account, q):
        total = totals.setdefault((*_bucket(q, hour), key), [0, 0, Decimal(0)])
        total[0] += upload
        total[1] += download
        total[2] += card.cost(country, hour, upload + download)
    records = [
        UsageRecord(
            start=start,
            end=end,
            upload=upload,
            download=download,
            billed=billed.quantize(_CENT, rounding=ROUND_HALF_UP),
            currency=card.currency,
            sim_sid=key if q.group == "sim" else (q.sim.sid if q.sim else None),
            fleet_sid=key if q.group == "fleet" else (q.fleet.sid if q.fleet else None),
            network_sid=key if q.group == "network" else (q.network.sid if q.network else None),
            iso_country=key if q.group == "isoCountry" else q.iso_country,
        )
        for (start, end, key), (upload, download, billed) in totals.items()
    ]
    records.sort(key=lambda r: _order(_key(r, q.group)))
    return records


def _key(record: UsageRecord, group: str | None) -> tuple[int, str]:
    """The keyset of a record: (period start in epoch seconds, group key)."""
    value = {
        "sim": record.sim_sid,
        "fleet": record.fleet_sid,
        "network": record.network_sid,
        "isoCountry": record.iso_country,
    }.get(group or "")
    return int(record.start.timestamp()), value or ""


def _order(key: tuple[int, str]) -> tuple[int, str]:
    """List order: newest period first, then by group key."""
    return -key[0], key[1]


def _page(records: list[UsageRecord], request: PageRequest, group: str | None) -> Page[UsageRecord]:
    cursor = Cursor.decode(request.token, (int, str)) if request.token else None
    at = (-int(cursor.key[0]), str(cursor.key[1])) if cursor is not None else (0, "")
    orders = [_order(_key(r, group)) for r in records]
    size = request.page_size
    if cursor is None or cursor.direction == "after":
        first = 0 if cursor is None else bisect.bisect_right(orders, at)
        items = records[first : first + size]
        has_next, has_previous = first + size < len(records), first > 0
    else:
        last = bisect.bisect_left(orders, at)
        first = max(0, last - size)
        items = records[first:last]
        has_next, has_previous = last < len(records), first > 0
    return Page(
        items=items,
        next=Cursor("after", _key(items[-1], group)) if has_next and items else None,
        previous=Cursor("before", _key(items[0], group)) if has_previous and items else None,
    )
