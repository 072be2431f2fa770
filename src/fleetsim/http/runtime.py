"""What every request shares: the engine, the clock, the SID factory, the public URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from anyio import CapacityLimiter
from sqlalchemy import Engine

from fleetsim.core.clock import Clock
from fleetsim.core.sids import SidFactory
from fleetsim.engine.worker import Worker

__all__ = ["Runtime"]


@dataclass
class Runtime:
    engine: Engine
    clock: Clock
    sids: SidFactory
    # Base of every absolute URL in responses; None: taken from each request's Host.
    public_url: str | None = None
    max_body_bytes: int = 64 * 1024
    # Runs jobs inline for the control API (advancing the clock, manual progression).
    worker: Worker | None = None
    # Called after a reset, to re-create the account the server was started with.
    after_reset: Callable[[], object] = field(default=lambda: None)
    # On SQLite, requests that write take turns here (see `fleetsim.http.endpoint`).
    sqlite_writers: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(1))
