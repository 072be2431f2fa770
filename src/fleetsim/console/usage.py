"""Usage charts: data over time per Fleet, network or country, by hour or day.

    GET /console/usage?group=fleet|network|isoCountry&granularity=day|hour&days=N

The figures are `/v1/UsageRecords`' own: `list_usage_records` with the same filters,
every page of them, so the chart and the totals beside it agree with the API.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from starlette.routing import Route

from fleetsim.console.base import Html, Visit, page
from fleetsim.console.charts import COLOURS, Series, line_chart
from fleetsim.core.errors import InvalidParameter
from fleetsim.core.paging import PageRequest
from fleetsim.network.networks import find_network
from fleetsim.resources.fleets.service import find_fleet
from fleetsim.resources.usage_records.service import (
    UsageFilters,
    UsageRecord,
    list_usage_records,
)

__all__ = ["USAGE_ROUTES"]

GROUPS = {"": "All data", "fleet": "Fleet", "network": "Network", "isoCountry": "Country"}
MAX_DAYS = {"day": 90, "hour": 31}


def _records(visit: Visit, filters: UsageFilters) -> list[UsageRecord]:
    """Every record of the query, oldest first."""
    records: list[UsageRecord] = []
    token = None
    while True:
        found = list_usage_records(
            visit.session,
            visit.account,
            filters=filters,
            page=PageRequest(page_size=1000, token=token),
            now=visit.clock.now(),
        )
        records.extend(found.items)
        if found.next is None:
            return list(reversed(records))
        token = found.next.encode()


def _window(visit: Visit, granularity: str, days: int) -> tuple[dt.datetime, dt.datetime]:
    now = visit.clock.now()
    if granularity == "hour":
        end = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    else:
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    return end - dt.timedelta(days=days), end


def _label(visit: Visit, group: str, key: str | None) -> str:
    if not group or key is None:
        return "All data"
    if group == "fleet":
        fleet = find_fleet(visit.session, visit.account, key)
        return (fleet.unique_name or fleet.sid) if fleet else key
    if group == "network":
        network = find_network(visit.session, key)
        return f"{network.friendly_name} ({network.iso_country})" if network else key
    return key


def _key(record: UsageRecord, group: str) -> str | None:
    return {
        "fleet": record.fleet_sid,
        "network": record.network_sid,
        "isoCountry": record.iso_country,
    }.get(group)


@page
def usage(visit: Visit) -> Html:
    group = visit.arg("group") or ""
    granularity = visit.arg("granularity") or "day"
    if group not in GROUPS:
        raise InvalidParameter("Group", "must be fleet, network or isoCountry")
    if granularity not in MAX_DAYS:
        raise InvalidParameter("Granularity", "must be day or hour")
    days = visit.whole("days", "Days") or (7 if granularity == "day" else 2)
    if not 1 <= days <= MAX_DAYS[granularity]:
        raise InvalidParameter("Days", f"must be from 1 to {MAX_DAYS[granularity]}")
    start, end = _window(visit, granularity, days)
    step = dt.timedelta(hours=1) if granularity == "hour" else dt.timedelta(days=1)
    buckets = [start + step * i for i in range(int((end - start) / step))]
    records = _records(
        visit,
        UsageFilters(group=group or None, granularity=granularity, start_time=start, end_time=end),
    )
    values: dict[str | None, list[int]] = defaultdict(lambda: [0] * len(buckets))
    totals: dict[str | None, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for record in records:
        key = _key(record, group)
        values[key][buckets.index(record.start)] += record.upload + record.download
        total = totals[key]
        total[0] += record.upload
        total[1] += record.download
        total[2] += record.billed
    keys = sorted(values, key=lambda k: k or "")
    series = [Series(_label(visit, group, k), values[k]) for k in keys]
    rows = [
        (
            series[i].name,
            COLOURS[i % len(COLOURS)],
            int(totals[k][0]),
            int(totals[k][1]),
            totals[k][2],
        )
        for i, k in enumerate(keys)
    ]
    return visit.html(
        "usage.html",
        chart=line_chart(buckets, series, hourly=granularity == "hour"),
        rows=rows,
        total_upload=sum(r[2] for r in rows),
        total_download=sum(r[3] for r in rows),
        total_billed=sum((r[4] for r in rows), Decimal(0)),
        currency=records[0].currency if records else "USD",
        group=group,
        groups=GROUPS,
        granularity=granularity,
        days=days,
        start=start,
        end=end,
    )


USAGE_ROUTES = [Route("/console/usage", usage, methods=["GET"], name="console_usage")]
