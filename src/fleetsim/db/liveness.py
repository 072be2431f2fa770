"""When a kept connection is worth a ping before its next use: only after it was idle long
enough for the server to have gone away (a restart, a failover). A ping on every use would
add a round trip to every unit of work."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["IDLE_BEFORE_PING", "idle_long", "mark_used"]

IDLE_BEFORE_PING = 10.0  # seconds
_LAST_USED = "fleetsim_last_used"


def mark_used(info: dict[Any, Any]) -> None:
    """Note, in a connection's `info`, that it was used just now."""
    info[_LAST_USED] = time.monotonic()


def idle_long(info: dict[Any, Any]) -> bool:
    """Whether the connection of `info` went unused for `IDLE_BEFORE_PING` or more (one
    never marked was just opened)."""
    last = info.get(_LAST_USED)
    return last is not None and time.monotonic() - last >= IDLE_BEFORE_PING
