"""Small checks the live-server tests share: a JSON answer with the status expected, and a
bounded wait for a condition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest

__all__ = ["ok", "poll"]


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response that has `status`."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def poll(check: Callable[[], bool], what: Callable[[], str] | str, deadline: float = 60.0) -> None:
    """Check until true, for at most `deadline` seconds of wall time, however slow each
    check; `what` names what was awaited (a function when it depends on the last check)."""
    give_up = time.monotonic() + deadline
    pause = threading.Event()  # never set: a bounded pause between checks
    while not check():
        if time.monotonic() > give_up:
            pytest.fail(f"waited {deadline:.0f}s for {what if isinstance(what, str) else what()}")
        pause.wait(0.05)
