"""The shared manual clock: configured at start, moved by the control API, never backwards."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from fleetsim.core.clock import FrozenClock
from fleetsim.engine.clock import DatabaseClock, clock_for, configure_clock

JAN_1 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_manual_clock_starts_where_told_and_is_shared(engine: Engine, clock: FrozenClock) -> None:
    assert configure_clock(engine, "manual", start=JAN_1, system=clock) == "manual"
    one, other = DatabaseClock(engine), clock_for(engine, "manual")
    assert one.now() == JAN_1
    one.set(JAN_1 + dt.timedelta(hours=1))
    assert other.now() == JAN_1 + dt.timedelta(hours=1)


def test_a_restart_with_the_same_start_keeps_the_time_reached(
    engine: Engine, clock: FrozenClock
) -> None:
    configure_clock(engine, "manual", start=JAN_1, system=clock)
    DatabaseClock(engine).set(JAN_1 + dt.timedelta(hours=1))
    configure_clock(engine, "manual", start=JAN_1, system=clock)
    assert DatabaseClock(engine).now() == JAN_1 + dt.timedelta(hours=1)
    later = JAN_1 + dt.timedelta(days=2)
    configure_clock(engine, "manual", start=later, system=clock)
    assert DatabaseClock(engine).now() == later


def test_the_manual_clock_never_moves_back(engine: Engine, clock: FrozenClock) -> None:
    configure_clock(engine, "manual", start=JAN_1, system=clock)
    with pytest.raises(ValueError, match="backwards"):
        DatabaseClock(engine).set(JAN_1 - dt.timedelta(seconds=1))


def test_without_a_mode_the_database_decides(engine: Engine, clock: FrozenClock) -> None:
    assert configure_clock(engine, None, start=None, system=clock) == "real"
    configure_clock(engine, "manual", start=None, system=clock)
    assert configure_clock(engine, None, start=None, system=clock) == "manual"
    assert DatabaseClock(engine).now() == clock.now()
    assert configure_clock(engine, "real", start=None, system=clock) == "real"
