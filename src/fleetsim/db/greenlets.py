"""Synchronous units of work run on the event loop, in greenlets kept for reuse.

A unit of work on PostgreSQL is plain synchronous code whose round trips wait on the loop
(`db.dialect.loop_engine`): it runs in a greenlet, and each round trip (SQLAlchemy's
`await_only`) switches back to the coroutine that awaits it, as `sqlalchemy.util.
greenlet_spawn` does. That function makes a greenlet for every call, and making and
freeing one costs more than the switches of a unit's round trip: `in_greenlet` keeps the
greenlets of a thread that finished a unit and runs the next units in them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

__all__ = ["in_greenlet"]

T = TypeVar("T")

# Idle greenlets a thread keeps: enough for the units one loop runs at once.
_KEPT = 64


class _Done:
    """What a unit gave: its value, or the error it raised."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error


class _UnitGreenlet(greenlet):  # type: ignore[misc]  # greenlet's class is untyped
    """A greenlet that runs one unit after another, each handed to it by `switch`."""

    # What SQLAlchemy's `await_only` and `in_greenlet` look for in the current greenlet.
    __sqlalchemy_greenlet_provider__ = True

    def __init__(self) -> None:
        super().__init__(self._serve)

    def _serve(self, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
        while True:
            # The outcome goes to the driver without a variable of this frame holding it:
            # an error's traceback would then hold the error (a cycle).
            work, args = self.parent.switch(_outcome(work, args))


def _outcome(work: Callable[..., Any], args: tuple[Any, ...]) -> _Done:
    try:
        return _Done(work(*args))
    except BaseException as error:  # the driver raises it, in the awaiting coroutine
        return _Done(error=error)


_idle = threading.local()


async def in_greenlet(work: Callable[..., T], *args: Any) -> T:
    """`work(*args)`, run in a greenlet whose `await_only` calls wait on the running loop
    (`sqlalchemy.util.greenlet_spawn`'s contract, with its greenlets reused)."""
    kept: list[_UnitGreenlet] = _idle.__dict__.setdefault("greenlets", [])
    runner = kept.pop() if kept else _UnitGreenlet()
    driver = getcurrent()
    runner.parent = driver
    runner.gr_context = driver.gr_context  # the awaiting task's context variables
    step = runner.switch(work, args)
    while not isinstance(step, _Done):  # an awaitable the unit waits for
        try:
            value = await step
        except BaseException as error:  # thrown into the unit, which may handle it
            step = runner.throw(type(error), error, error.__traceback__)
        else:
            step = runner.switch(value)
    runner.gr_context = None
    if len(kept) < _KEPT:
        kept.append(runner)
    if step.error is None:
        result: T = step.value
        return result
    failed = step.error
    del step
    try:
        raise failed
    finally:
        del failed  # this frame, in the error's traceback, would hold it
