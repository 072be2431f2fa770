"""The one source of time.

Rules never read the wall clock; they are handed a `Clock`. `SystemClock` is the real
time, `FrozenClock` only moves when told to (tests and the manual mode build on it).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

__all__ = ["Clock", "FrozenClock", "SystemClock", "utc"]


def utc(value: dt.datetime) -> dt.datetime:
    """Return `value` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Current time, aware, in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock that stands still until `advance` or `set` moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = utc(start)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move forward by `delta` and return the new time."""
        if delta < dt.timedelta(0):
            raise ValueError("a clock never moves backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, value: dt.datetime) -> None:
        """Jump to `value`, which must not be in the past of this clock."""
        value = utc(value)
        with self._lock:
            if value < self._now:
                raise ValueError("a clock never moves backwards")
            self._now = value
