"""The one date format on the wire: `YYYY-MM-DDTHH:MM:SSZ`, UTC, no fractions."""

from __future__ import annotations

import datetime as dt

import orjson

from fleetsim.core.clock import utc

__all__ = ["iso", "iso_or_none"]


def iso(value: dt.datetime) -> str:
    # A page of Sims formats two dates a Sim: orjson formats a datetime in C, in half the
    # time of formatting its fields here, and no new datetime is made when the value is in
    # UTC already (as stored values and the clock's are).
    if value.tzinfo is not dt.UTC:
        value = utc(value)
    return orjson.dumps(value, option=_ISO).decode()[1:-1]


# `YYYY-MM-DDTHH:MM:SSZ`: a UTC datetime without its fractions, as a JSON string.
_ISO = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS


def iso_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else iso(value)
