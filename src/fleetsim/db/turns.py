"""A lock that its waiters get in the order they asked for it.

`threading.Lock` lets the thread that releases it take it again at once, before a waiting
thread has even woken: SQLite's writer lock went to the job worker batch after batch while
the requests' writes waited behind it (`bench/api.py`, SMS Commands created while they
are delivered). `TurnLock` hands the lock to the longest waiter on release.
"""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["TurnLock"]


class TurnLock:
    """A non-reentrant lock taken in turn: first asked, first served."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()

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
            self._waiting.append(turn)
        if turn.acquire(timeout=timeout):  # released by `release`: the lock is ours
            return True
        with self._guard:
            if turn in self._waiting:
                self._waiting.remove(turn)
                return False
        return True  # handed over between the timeout and the guard

    def release(self) -> None:
        """Give the lock to the longest waiter, or free it."""
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()  # held all along: now by the waiter
            else:
                self._held = False
