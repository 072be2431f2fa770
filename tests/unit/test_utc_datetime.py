"""`UTCDateTime` on SQLite writes, in one step, the text SQLAlchemy's DATETIME writes for
the same instant in UTC: rows stored before and after compare and sort alike."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from fleetsim.core.dates import iso
from fleetsim.db.store import stored_datetime, stored_iso
from fleetsim.db.types import UTCDateTime

_SQLITE = sqlite.dialect()
_DATETIME_TEXT = DateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)


def _utc_datetime_text(value: dt.datetime | None) -> object:
    process = UTCDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)
    assert process is not None
    return process(value)


def _random_instant(rnd: random.Random, zone: dt.tzinfo) -> dt.datetime:
    """An instant in years 2 to 9998, whole seconds as often as not."""
    return dt.datetime(
        rnd.randint(2, 9998),
        rnd.randint(1, 12),
        rnd.randint(1, 28),
        rnd.randint(0, 23),
        rnd.randint(0, 59),
        rnd.randint(0, 59),
        rnd.choice([0, rnd.randint(1, 999_999)]),
        tzinfo=zone,
    )


def test_the_text_is_sqlalchemys_for_the_same_instant_in_utc() -> None:
    assert _DATETIME_TEXT is not None
    rnd = random.Random(15)
    for n in range(20_000):
        zone = dt.UTC if n % 3 == 0 else dt.timezone(dt.timedelta(minutes=rnd.randint(-720, 720)))
        value = _random_instant(rnd, zone)
        expected = _DATETIME_TEXT(value.astimezone(dt.UTC).replace(tzinfo=None))
        assert _utc_datetime_text(value) == expected


def test_whole_seconds_keep_their_microseconds() -> None:
    value = dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.UTC)
    assert _utc_datetime_text(value) == "2026-12-03 05:00:00.000000"


def test_none_stays_none_and_a_naive_datetime_is_refused() -> None:
    assert _utc_datetime_text(None) is None
    with pytest.raises(ValueError, match="aware datetime"):
        _utc_datetime_text(dt.datetime(2026, 12, 3))


def test_the_wire_text_of_a_stored_date_is_isos() -> None:
    """`stored_iso` slices SQLite's text where the other paths parse and format it: both
    give the same wire text, for every form a Tx reads or the clock gives."""
    rnd = random.Random(16)
    for _ in range(20_000):
        value = _random_instant(rnd, dt.UTC)
        expected = iso(value)
        text = _utc_datetime_text(value)  # SQLite's
        assert isinstance(text, str)
        assert stored_iso(text) == iso(stored_datetime(text)) == expected
        assert stored_iso(value.replace(tzinfo=None)) == expected  # PostgreSQL's
        assert stored_iso(value) == expected  # the clock's
    assert stored_iso("2026-12-03 04:59:54") == "2026-12-03T04:59:54Z"  # whole seconds
