"""The one date format on the wire: `YYYY-MM-DDTHH:MM:SSZ`, UTC, no fractions."""

from __future__ import annotations

import datetime as dt

from fleetsim.core.clock import utc

__all__ = ["iso", "iso_or_none"]


def iso(value: dt.datetime) -> str:
    # A page of Sims formats two dates a Sim: isoformat and a slice, without a new
    # datetime, when the value is in UTC already (as stored values and the clock's are).
    if value.tzinfo is not dt.UTC:
        value = utc(value)
    return value.isoformat(timespec="seconds")[:19] + "Z"


def iso_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else iso(value)
