"""Where usage is kept: per Sim and hour, plus the rollups that queries read, written
together in the caller's transaction so that they never drift apart.

- `usage_hours`: per (Sim, Fleet, network, UTC hour): the record of what devices used.
- `usage_days`: the same per UTC day (with the Sim's SID, the order Group=sim lists in).
- `usage_fleet_hours`, `usage_fleet_days`: summed over the Sims of a Fleet, per network:
  what queries that neither filter nor group by Sim read (a few rows per hour or day).

Every writer (device use, `fleetsim simulate`) goes through `record_usage`; a day or
Fleet row always equals the sum of its hours (tests/billing/test_usage_store.py).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, column
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

from fleetsim.db.dialect import add_or_insert
from fleetsim.db.tables import UsageDay, UsageFleetDay, UsageFleetHour, UsageHour
from fleetsim.db.types import UTCDateTime

__all__ = ["UsageSample", "record_usage"]

_HOURS = cast(Table, UsageHour.__table__)
_DAYS = cast(Table, UsageDay.__table__)
_FLEET_HOURS = cast(Table, UsageFleetHour.__table__)
_FLEET_DAYS = cast(Table, UsageFleetDay.__table__)
# Per key: [upload, download, account_id, iso_country] (the last two follow from the key).
_Totals = dict[tuple[Any, ...], list[Any]]


class UsageSample(NamedTuple):
    """Bytes one Sim moved in one UTC hour (`hour` is the hour's start)."""

    account_id: int
    sim_id: int
    sim_sid: str
    fleet_id: int
    network_id: int
    iso_country: str
    hour: dt.datetime
    upload: int
    download: int


def record_usage(
    session: Session, samples: Iterable[UsageSample], *, new_sims: bool = False
) -> int:
    """Add `samples` to the hours and every rollup; returns how many hour rows that was.

    `new_sims`: the samples are the first usage of their Sims and no (Sim, Fleet,
    network, hour) repeats, so per-Sim rows are plain inserts (the bulk path)."""
    hours: _Totals = {}
    days: _Totals = {}
    fleet_hours: _Totals = {}
    new_hours: list[dict[str, Any]] = []
    day_of: dict[dt.datetime, dt.datetime] = {}
    for s in samples:
        day = day_of.get(s.hour)
        if day is None:
            day = day_of[s.hour] = s.hour.replace(hour=0)
        if new_sims:
            new_hours.append(
                {
                    "account_id": s.account_id,
                    "sim_id": s.sim_id,
                    "fleet_id": s.fleet_id,
                    "network_id": s.network_id,
                    "iso_country": s.iso_country,
                    "hour": s.hour,
                    "upload": s.upload,
                    "download": s.download,
                }
            )
        else:
            _add(hours, (s.sim_id, s.fleet_id, s.network_id, s.hour), s)
        _add(days, (s.sim_id, s.sim_sid, s.fleet_id, s.network_id, day), s)
        _add(fleet_hours, (s.fleet_id, s.network_id, s.hour), s)
    if not fleet_hours:
        return 0
    # A Fleet's days from its hours: a few rows, not one sum per sample.
    fleet_days: _Totals = {}
    for (fleet_id, network_id, hour), (up, down, account_id, country) in fleet_hours.items():
        key = (fleet_id, network_id, day_of[hour])
        total = fleet_days.setdefault(key, [0, 0, account_id, country])
        total[0] += up
        total[1] += down
    connection = session.connection()
    day_rows = _rows(days, ("sim_id", "sim_sid", "fleet_id", "network_id", "day"))
    if new_sims:
        _insert_prepared(connection, _HOURS, new_hours)
        connection.execute(_DAYS.insert(), day_rows)
    else:
        hour_rows = _rows(hours, ("sim_id", "fleet_id", "network_id", "hour"))
        add_or_insert(connection, _HOURS, ("sim_id", "fleet_id", "network_id", "hour"), hour_rows)
        add_or_insert(connection, _DAYS, ("sim_id", "fleet_id", "network_id", "day"), day_rows)
    add_or_insert(
        connection,
        _FLEET_HOURS,
        ("fleet_id", "network_id", "hour"),
        _rows(fleet_hours, ("fleet_id", "network_id", "hour")),
    )
    add_or_insert(
        connection,
        _FLEET_DAYS,
        ("fleet_id", "network_id", "day"),
        _rows(fleet_days, ("fleet_id", "network_id", "day")),
    )
    return len(new_hours) + len(hours)


def _add(totals: _Totals, key: tuple[Any, ...], s: UsageSample) -> None:
    total = totals.get(key)
    if total is None:
        totals[key] = [s.upload, s.download, s.account_id, s.iso_country]
    else:
        total[0] += s.upload
        total[1] += s.download


def _insert_prepared(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows whose only typed values are their few distinct times: each time
    is converted for the database once, and the rows go in untyped (the bulk path spends
    its time here, per row)."""
    if not rows:
        return
    converters: dict[str, Callable[[Any], Any]] = {}
    for typed in table.columns:
        # The dialect's own form of the type (SQLite keeps times as text, for one).
        convert = typed.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
        if convert is not None and typed.name in rows[0]:
            few = isinstance(typed.type, UTCDateTime)
            converters[typed.name] = functools.cache(convert) if few else convert
    for row in rows:
        for name, converter in converters.items():
            row[name] = converter(row[name])
    untyped = sa_table(table.name, *(column(name) for name in rows[0]))
    connection.execute(untyped.insert(), rows)


def _rows(totals: _Totals, names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            **dict(zip(names, key, strict=True)),
            "upload": up,
            "download": down,
            "account_id": account_id,
            "iso_country": country,
        }
        for key, (up, down, account_id, country) in totals.items()
    ]
