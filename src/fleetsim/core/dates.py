"""The one date format on the wire: `YYYY-MM-DDTHH:MM:SSZ`, UTC, no fractions."""

from __future__ import annotations

import datetime as dt

from fleetsim.core.clock import utc

__all__ = ["iso", "iso_or_none"]


def iso(value: dt.datetime) -> str:
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else iso(value)
