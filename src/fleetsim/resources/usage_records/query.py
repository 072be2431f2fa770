"""UsageRecords in SQL: which usage table answers a request, and one page of records.

A request's window is cut into segments, each read from one table:
- per Sim (`usage_hours`, `usage_days`) when filtered or grouped by Sim, else per Fleet
  (`usage_fleet_hours`, `usage_fleet_days`: a few rows per hour or day);
- days for whole UTC days of `day` and `all` windows, hours for hourly granularity, for
  the partial days at the ends of an `all` window, and for a day in which a price of the
  rate card changes (prices are per hour of use: see `fleetsim.billing.rates`).

Grouped lists page with a keyset in SQL (newest period first, then the group's SID or
country ascending): one query finds the page's (period, group) pairs with LIMIT
page_size + 1, a second sums them per country and price epoch, priced here. Ungrouped
lists have every bucket of the window (at most 744), listed here and summed in SQL for
the page's buckets only.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from fleetsim.billing.rates import BYTES_PER_MB, RateCard
from fleetsim.core.paging import Cursor, PageRequest
from fleetsim.db.paging import Page
from fleetsim.db.tables import (
    Fleet,
    Network,
    Sim,
    UsageDay,
    UsageFleetDay,
    UsageFleetHour,
    UsageHour,
)
from fleetsim.db.types import UTCDateTime

__all__ = ["DAY", "HOUR", "UsageQuery", "UsageRecord", "fetch_records"]

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
_CENT = Decimal("0.01")
_KEY_FIELD = {"sim": "sim_sid", "fleet": "fleet_sid", "network": "network_sid"}


@dataclass(frozen=True)
class UsageQuery:
    """A validated request: references resolved, window checked."""

    account_id: int
    sim: Sim | None
    fleet: Fleet | None
    network: Network | None
    iso_country: str | None
    group: str | None
    granularity: str
    start: dt.datetime
    end: dt.datetime


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
class _Segment:
    """[start, end) read from the day tables (`daily`) or the hour tables; `period` is the
    period every row of it belongs to, or None when each row's day or hour is."""

    daily: bool
    start: dt.datetime
    end: dt.datetime
    period: dt.datetime | None


# (period start, group key); the period is None for `all` (the window is the period).
_Pair = tuple[dt.datetime | None, str | None]


def fetch_records(
    session: Session, q: UsageQuery, request: PageRequest, card: RateCard
) -> Page[UsageRecord]:
    if q.group is None:
        return _ungrouped(session, q, request, card)
    return _grouped(session, q, request, card)


# --- where the data comes from --------------------------------------------------------


def _floor_day(value: dt.datetime) -> dt.datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(value: dt.datetime) -> dt.datetime:
    floor = _floor_day(value)
    return floor if floor == value else floor + DAY


def _segments(q: UsageQuery, card: RateCard) -> list[_Segment]:
    constant = q.start if q.granularity == "all" else None
    if q.granularity == "hour":
        return [_Segment(False, q.start, q.end, None)]
    first, last = _ceil_day(q.start), _floor_day(q.end)
    if first >= last:
        return [_Segment(False, q.start, q.end, constant)]
    segments = []
    if q.start < first:
        segments.append(_Segment(False, q.start, first, constant))
    # A day in which a price changes is read by the hour (hours are priced one by one).
    split = sorted({_floor_day(t) for t in card.changes_between(first, last) if t != _floor_day(t)})
    at = first
    for day in split:
        if at < day:
            segments.append(_Segment(True, at, day, constant))
        segments.append(_Segment(False, day, day + DAY, constant if constant else day))
        at = day + DAY
    if at < last:
        segments.append(_Segment(True, at, last, constant))
    if last < q.end:
        segments.append(_Segment(False, last, q.end, constant))
    return segments


def _table(q: UsageQuery, daily: bool) -> Any:
    if q.sim is not None or q.group == "sim":
        return UsageDay if daily else UsageHour
    return UsageFleetDay if daily else UsageFleetHour


@dataclass(frozen=True)
class _Shape:
    """One segment's columns: the period and key expressions, what to join."""

    table: Any
    time: Any
    period: Any
    key: Any
    join: tuple[Any, Any] | None


def _shape(q: UsageQuery, segment: _Segment) -> _Shape:
    t = _table(q, segment.daily)
    time = t.day if segment.daily else t.hour
    period = time if segment.period is None else literal(segment.period, UTCDateTime())
    key: Any = None
    join: tuple[Any, Any] | None = None
    if q.group == "sim":
        key, join = (t.sim_sid, None) if t is UsageDay else (Sim.sid, (Sim, Sim.id == t.sim_id))
    elif q.group == "fleet":
        key, join = Fleet.sid, (Fleet, Fleet.id == t.fleet_id)
    elif q.group == "network":
        key, join = Network.sid, (Network, Network.id == t.network_id)
    elif q.group == "isoCountry":
        key = t.iso_country
    return _Shape(t, time, period, key, join)


def _filters(q: UsageQuery, s: _Shape, segment: _Segment) -> list[ColumnElement[bool]]:
    t = s.table
    unit = DAY if segment.daily else HOUR
    if segment.end - segment.start == unit and segment.start.minute == segment.start.second == 0:
        # One day or hour: an equality, so that its rows come in key order off an index.
        where = [s.time == segment.start]
    else:
        where = [s.time >= segment.start, s.time < segment.end]
    if q.sim is not None:
        # The Sim is the account's (resolved so): its own index, not the account's.
        where.append(t.sim_id == q.sim.id)
    else:
        where.append(t.account_id == q.account_id)
    if q.fleet is not None:
        where.append(t.fleet_id == q.fleet.id)
    if q.network is not None:
        where.append(t.network_id == q.network.id)
    if q.iso_country is not None:
        where.append(t.iso_country == q.iso_country)
    return where


def _period_column(q: UsageQuery, s: _Shape) -> list[Any]:
    return [] if q.granularity == "all" else [s.period]


# --- grouped: a keyset page in SQL ----------------------------------------------------


def _seek(
    q: UsageQuery, s: _Shape, at: tuple[dt.datetime, str], *, after: bool, inclusive: bool
) -> ColumnElement[bool]:
    """Rows after (or before) the pair `at` in list order: newest period first, then key."""
    period, key = at
    past_key: ColumnElement[bool]
    if after:
        past_key = s.key >= key if inclusive else s.key > key
    else:
        past_key = s.key <= key if inclusive else s.key < key
    if q.granularity == "all":
        return past_key
    past_period = s.period < period if after else s.period > period
    return or_(past_period, and_(s.period == period, past_key))


# Where a page starts: (the pair at the edge, after it (else before), the pair included).
_Seek = tuple[tuple[dt.datetime, str], bool, bool]


def _pairs(
    session: Session, q: UsageQuery, card: RateCard, *, seek: _Seek | None, limit: int
) -> list[_Pair]:
    """Up to `limit` (period, key) pairs in list order after/before the seek point, or
    from the top; in reverse order when seeking before."""
    if q.group == "sim" and q.sim is None and q.granularity != "all":
        return _pairs_by_period(session, q, card, seek=seek, limit=limit)
    return _pairs_at_once(session, q, _segments(q, card), seek=seek, limit=limit)


def _pairs_by_period(
    session: Session, q: UsageQuery, card: RateCard, *, seek: _Seek | None, limit: int
) -> list[_Pair]:
    """Group=sim by day or hour: thousands of Sims per period, so one period at a time
    (the periods with usage come from the small per-Fleet table)."""
    daily = q.granularity == "day"
    t: Any = UsageFleetDay if daily else UsageFleetHour
    time: Any = t.day if daily else t.hour
    shape = _Shape(t, time, time, None, None)
    where = _filters(replace(q, sim=None), shape, _Segment(daily, q.start, q.end, None))
    step = DAY if daily else HOUR
    backward = seek is not None and not seek[1]
    found: list[_Pair] = []
    if seek is not None:
        edge = seek[0][0]
        where.append(time > edge if backward else time < edge)
        if q.start <= edge < q.end:  # the rest of the period the page ends in
            rest = replace(q, start=edge, end=edge + step)
            found = _pairs_at_once(session, rest, _segments(rest, card), seek=seek, limit=limit)
    periods = session.execute(
        select(time).where(*where).group_by(time).order_by(time.asc() if backward else time.desc())
    ).scalars()
    for period in periods:
        if len(found) >= limit:
            break
        one = replace(q, start=period, end=period + step)
        found += _pairs_at_once(
            session,
            one,
            _segments(one, card),
            seek=None,
            limit=limit - len(found),
            backward=backward,
        )
    return found


def _pairs_at_once(
    session: Session,
    q: UsageQuery,
    segments: Sequence[_Segment],
    *,
    seek: _Seek | None,
    limit: int,
    backward: bool = False,
) -> list[_Pair]:
    backward = backward or (seek is not None and not seek[1])
    selects = []
    for segment in segments:
        s = _shape(q, segment)
        columns = [*_period_column(q, s), s.key]
        where = _filters(q, s, segment)
        if seek is not None:
            where.append(_seek(q, s, seek[0], after=seek[1], inclusive=seek[2]))
        statement = select(
            *(c.label(n) for c, n in zip(columns, _names(q), strict=True))
        ).select_from(s.table)
        if s.join is not None:
            statement = statement.join(*s.join)
        group = [s.key] if q.granularity == "all" or segment.period is not None else columns
        selects.append(statement.where(*where).group_by(*group))
    if len(selects) == 1:
        statement = selects[0]
        order = list(selects[0].selected_columns)
    else:
        union = union_all(*selects).subquery()
        order = [union.c[n] for n in _names(q)]
        statement = select(*order).group_by(*order)
    newest_first = []
    for column, name in zip(order, _names(q), strict=True):
        descending = (name == "period") != backward
        newest_first.append(column.desc() if descending else column.asc())
    rows = session.execute(statement.order_by(*newest_first).limit(limit)).all()
    if q.granularity == "all":
        return [(None, str(r[0])) for r in rows]
    return [(r[0], str(r[1])) for r in rows]


def _names(q: UsageQuery) -> list[str]:
    return ["key"] if q.granularity == "all" else ["period", "key"]


def _grouped(
    session: Session, q: UsageQuery, request: PageRequest, card: RateCard
) -> Page[UsageRecord]:
    cursor = Cursor.decode(request.token, (int, str)) if request.token else None
    size = request.page_size
    at = None
    if cursor is not None:
        at = (dt.datetime.fromtimestamp(int(cursor.key[0]), dt.UTC), str(cursor.key[1]))
    if cursor is not None and at is not None and cursor.direction == "before":
        rows = _pairs(session, q, card, seek=(at, False, False), limit=size + 1)
        has_previous = len(rows) > size
        items = list(reversed(rows[:size]))
        has_next = bool(_pairs(session, q, card, seek=(at, True, True), limit=1))
    else:
        seek = (at, True, False) if at is not None else None
        rows = _pairs(session, q, card, seek=seek, limit=size + 1)
        has_next = len(rows) > size
        items = rows[:size]
        has_previous = at is not None and bool(
            _pairs(session, q, card, seek=(at, False, True), limit=1)
        )
    records = _priced(session, q, card, items)
    return Page(
        items=records,
        next=Cursor("after", _cursor_key(q, items[-1])) if has_next and items else None,
        previous=Cursor("before", _cursor_key(q, items[0])) if has_previous and items else None,
    )


def _cursor_key(q: UsageQuery, pair: _Pair) -> tuple[int, str]:
    period = pair[0] if pair[0] is not None else q.start
    return int(period.timestamp()), pair[1] or ""


# --- sums and prices ------------------------------------------------------------------


def _priced(
    session: Session, q: UsageQuery, card: RateCard, pairs: list[_Pair]
) -> list[UsageRecord]:
    """The records of `pairs` (in that order): summed and priced in one query over the
    smallest window and key range that holds them."""
    if not pairs:
        return []
    step = {"hour": HOUR, "day": DAY}.get(q.granularity)
    narrow = q
    if step is not None:
        periods = [p for p, _ in pairs if p is not None]
        narrow = replace(q, start=min(periods), end=max(periods) + step)
    keys = [k for _, k in pairs if k is not None]
    totals = _totals(session, narrow, card, (min(keys), max(keys)) if keys else None)
    return [_record(q, card, pair, totals.get(pair)) for pair in pairs]


def _totals(
    session: Session, q: UsageQuery, card: RateCard, keys: tuple[str, str] | None
) -> dict[_Pair, list[Any]]:
    """(period, key) -> [upload, download, exact cost] over the window of `q`."""
    changes = card.changes_between(q.start, q.end)
    selects = []
    for segment in _segments(q, card):
        s = _shape(q, segment)
        # (name, expression, grouped by): constants are selected, not grouped by.
        columns: list[tuple[str, Any, bool]] = []
        if q.granularity != "all":
            columns.append(("period", s.period, segment.period is None))
        if s.key is not None:
            columns.append(("key", s.key, True))
        columns.append(("country", s.table.iso_country, True))
        if changes:
            epoch = case(
                *((s.time >= t, n) for n, t in reversed(list(enumerate(changes, start=1)))),
                else_=0,
            )
            columns.append(("epoch", epoch, True))
        where = _filters(q, s, segment)
        if keys is not None:
            where += [s.key >= keys[0], s.key <= keys[1]]
        statement = (
            select(
                *(c.label(name) for name, c, _ in columns),
                func.sum(s.table.upload).label("upload"),
                func.sum(s.table.download).label("download"),
            )
            .select_from(s.table)
            .where(*where)
        )
        if s.join is not None:
            statement = statement.join(*s.join)
        selects.append(statement.group_by(*(c for _, c, grouped in columns if grouped)))
    rows = selects[0] if len(selects) == 1 else union_all(*selects)
    epochs = [q.start, *changes]
    totals: dict[_Pair, list[Any]] = {}
    for row in session.execute(rows):
        period = row.period if q.granularity != "all" else None
        key = row.key if q.group is not None else None
        total = totals.setdefault((period, key), [0, 0, Decimal(0)])
        upload, download = int(row.upload or 0), int(row.download or 0)
        total[0] += upload
        total[1] += download
        price = card.price_per_mb(row.country, epochs[int(row.epoch) if changes else 0])
        total[2] += price * (upload + download) / BYTES_PER_MB
    return totals


def _record(q: UsageQuery, card: RateCard, pair: _Pair, total: list[Any] | None) -> UsageRecord:
    period, key = pair
    upload, download, cost = total if total is not None else (0, 0, Decimal(0))
    if q.granularity == "all" or period is None:
        start, end = q.start, q.end
    else:
        start, end = period, period + (HOUR if q.granularity == "hour" else DAY)
    dims = {
        "sim_sid": q.sim.sid if q.sim else None,
        "fleet_sid": q.fleet.sid if q.fleet else None,
        "network_sid": q.network.sid if q.network else None,
        "iso_country": q.iso_country,
    }
    if q.group is not None:
        dims[_KEY_FIELD.get(q.group, "iso_country")] = key
    return UsageRecord(
        start=start,
        end=end,
        upload=upload,
        download=download,
        billed=cost.quantize(_CENT, rounding=ROUND_HALF_UP),
        currency=card.currency,
        **dims,
    )


# --- ungrouped: every bucket of the window --------------------------------------------


def _buckets(q: UsageQuery) -> list[dt.datetime]:
    """The starts of the window's buckets, newest first."""
    if q.granularity == "all":
        return [q.start]
    step = HOUR if q.granularity == "hour" else DAY
    starts = []
    at = q.start
    while at < q.end:
        starts.append(at)
        at += step
    return starts[::-1]


def _ungrouped(
    session: Session, q: UsageQuery, request: PageRequest, card: RateCard
) -> Page[UsageRecord]:
    buckets = _buckets(q)
    cursor = Cursor.decode(request.token, (int, str)) if request.token else None
    # Newest first: ordered by -epoch seconds, for bisect.
    order = [-int(b.timestamp()) for b in buckets]
    at = -int(cursor.key[0]) if cursor is not None else 0
    size = request.page_size
    if cursor is None or cursor.direction == "after":
        first = 0 if cursor is None else bisect.bisect_right(order, at)
        chosen = buckets[first : first + size]
        has_next, has_previous = first + size < len(buckets), first > 0
    else:
        last = bisect.bisect_left(order, at)
        first = max(0, last - size)
        chosen = buckets[first:last]
        has_next, has_previous = last < len(buckets), first > 0
    pairs: list[_Pair] = [(None if q.granularity == "all" else b, None) for b in chosen]
    records = _priced(session, q, card, pairs)
    keys = [(int(r.start.timestamp()), "") for r in records]
    return Page(
        items=records,
        next=Cursor("after", keys[-1]) if has_next and keys else None,
        previous=Cursor("before", keys[0]) if has_previous and keys else None,
    )
