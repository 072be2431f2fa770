"""The server clock, shared by every node through the database.

In `real` mode it is the system clock. In `manual` mode the time is a row that only moves
when the control API advances it, so that every node, worker and rule sees the same time
and tests never wait.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock, SystemClock, utc
from fleetsim.db.dialect import engine_here
from fleetsim.db.tables import ClockState
from fleetsim.db.uow import startup_unit_of_work, unit_of_work

__all__ = [
    "ClockMode",
    "DatabaseClock",
    "SettableClock",
    "clock_for",
    "configure_clock",
    "set_manual_time",
]

ClockMode = Literal["real", "manual"]


class SettableClock(Protocol):
    """A clock that the control API can move: `FrozenClock` in one process, or
    `DatabaseClock` shared by every node."""

    def now(self) -> dt.datetime: ...

    def set(self, value: dt.datetime) -> None: ...


class DatabaseClock:
    """The manual clock: reads the shared time from the database on every call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def set(self, value: dt.datetime) -> None:
        with unit_of_work(self._engine, write=True) as session:
            set_manual_time(session, value)

    def now(self) -> dt.datetime:
        with engine_here(self._engine).connect() as connection:
            value = connection.execute(
                select(ClockState.manual_now).where(ClockState.id == 1)
            ).scalar_one_or_none()
        if value is None:
            raise RuntimeError("the manual clock is not configured in this database")
        return value


def _state(session: Session) -> ClockState | None:
    return session.get(ClockState, 1)


def configure_clock(
    engine: Engine, mode: ClockMode | None, *, start: dt.datetime | None, system: Clock
) -> ClockMode:
    """Set the clock mode (None keeps what the database says; real by default) and return
    the mode in force. A manual clock starts at `start` (or the real time), and moves to a
    later `start` given on a restart, but never back."""
    with startup_unit_of_work(engine) as session:
        state = _state(session)
        if state is None:
            state = ClockState(id=1, mode="real", manual_now=None)
            session.add(state)
        if mode == "manual":
            state.mode = "manual"
            # Never backwards: a restart with the same --clock-start keeps the time the
            # clock has reached, and so does a second node started with the same command.
            if start is not None and (state.manual_now is None or utc(start) > state.manual_now):
                state.manual_now = utc(start)
            elif state.manual_now is None:
                state.manual_now = system.now().replace(microsecond=0)
        elif mode == "real":
            state.mode = "real"
        return "manual" if state.mode == "manual" else "real"


def clock_for(engine: Engine, mode: ClockMode) -> Clock:
    return DatabaseClock(engine) if mode == "manual" else SystemClock()


def set_manual_time(session: Session, value: dt.datetime) -> None:
    """Move the manual clock to `value`; it never moves backwards."""
    state = _state(session)
    if state is None or state.mode != "manual" or state.manual_now is None:
        raise RuntimeError("the clock is not manual")
    if value < state.manual_now:
        raise ValueError("the clock never moves backwards")
    state.manual_now = value
    session.flush()
