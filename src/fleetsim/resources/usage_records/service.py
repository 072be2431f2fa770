"""UsageRecords: totals of the usage devices recorded, per period and optionally per
Sim, Fleet, network or country, newest period first.

Usage is summed in SQL from the table that fits the request (hours, days, per Sim or per
Fleet: see `query`); an hour belongs to a period when the hour starts in it, and each
hour is priced by the rate card at its own time and country (see
`fleetsim.billing.rates`).

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
descending, group key ascending: a SID, or the country code). `data_total_billed` is
rounded half-up to cents per record.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fleetsim.billing.periods import add_months
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
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix
from fleetsim.db.paging import Page
from fleetsim.db.scoping import find_by_ref
from fleetsim.db.tables import Account, Fleet, Sim
from fleetsim.network.networks import find_network
from fleetsim.resources.usage_records.query import DAY, HOUR, UsageQuery, UsageRecord, fetch_records

__all__ = ["GRANULARITIES", "GROUPS", "UsageFilters", "UsageRecord", "list_usage_records"]

GROUPS = ("sim", "fleet", "network", "isoCountry")
GRANULARITIES = ("hour", "day", "all")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_MAX_MONTHS = {"all": 18, "day": 3}
_MAXHOURLY = dt.timedelta(days=31)


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
    return fetch_records(session, query, page, rate_card())


def _resolve(session: Session, account: Account, f: UsageFilters, now: dt.datetime) -> UsageQuery:
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
    return UsageQuery(
        account.id, sim, fleet, network, iso_country, f.group, f.granularity, start, end
    )


def _ceil(value: dt.datetime, step: dt.timedelta) -> dt.datetime:
    floor = value.replace(minute=0, second=0, microsecond=0)
    if step == DAY:
        floor = floor.replace(hour=0)
    return floor if floor == value else floor + step


def _window(f: UsageFilters, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    step = {"day": DAY, "hour": HOUR}.get(f.granularity)
    end = f.end_time or (_ceil(now, step) if step is not None else now)
    start = f.start_time or add_months(end, -1)
    if start >= end:
        raise UsageRecordsInvalidParameter("StartTime must be earlier than EndTime")
    if step is not None and any(_ceil(t, step) != t for t in (start, end)):
        raise UsageRecordsNotDayAligned() if step == DAY else UsageRecordsNotHourAligned()
    oldest = add_months(now.replace(hour=0, minute=0, second=0, microsecond=0), -18)
    if start < oldest:
        raise UsageRecordsStartTooOld(iso(oldest))
    if f.group == "sim" and end - start > _MAXHOURLY:
        raise UsageRecordsSimGroupTooLong()
    months = _MAX_MONTHS.get(f.granularity)
    if months is not None and end > add_months(start, months):
        raise UsageRecordsPeriodTooLong(f.granularity, f"{months} months")
    if months is None and end - start > _MAXHOURLY:
        raise UsageRecordsPeriodTooLong(f.granularity, "31 days")
    return start, end
