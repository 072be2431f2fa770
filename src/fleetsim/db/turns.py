"""A lock that its waiters get in the order they asked for it.

`threading.Lock` lets the thread that releases it take it again at once, before a waiting
thread has even woken: SQLite's writer lock went to the job worker batch after batch while
the requests' writes waited behind it (`bench/api.py`, SMS Commands created while they
are delivered). `TurnLock` hands the lock to the longest waiter on release. A waiter is a
thread, or (`acquire_or_call`) a callback, for an event loop that must not block.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

__all__ = ["TurnLock"]


class TurnLock:
    """A non-reentrant lock taken in turn: first asked, first served."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        # What gives each waiter the lock, longest waiting first.
        self._waiting: deque[Callable[[], None]] = deque()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; without `blocking`, only when it is free and nobody waits."""
        with self._guard:
            if not self._held and not self._waiting:
                self._held = True
                return True
            if not blocking:
                return False
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn.release)
        if turn.acquire(timeout=timeout):  # released by `release`: the lock is ours
            return True
        with self._guard:
            if turn.release in self._waiting:
                self._waiting.remove(turn.release)
                return False
        return True  # handed over between the timeout and the guard

    def acquire_or_call(self, given: Callable[[], None]) -> bool:
        """Take the lock at once (True), or wait in turn without blocking: `given` is
        called, by the thread that releases the lock before, once the lock is the
        caller's. It must not block, nor raise."""
        with self._guard:
            if not self._held and not self._waiting:
                self._held = True
                return True
            self._waiting.append(given)
            return False

    def release(self) -> None:
        """Give the lock to the longest waiter, or free it."""
        with self._guard:
            if not self._waiting:
                self._held = False
                return
            given = self._waiting.popleft()  # held all along: now by that waiter
        given()
