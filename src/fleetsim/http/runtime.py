"""What every request shares: the engine, the clock, the SID factory, the public URL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from fleetsim.core.clock import Clock
from fleetsim.core.sids import SidFactory

__all__ = ["Runtime"]


@dataclass
class Runtime:
    engine: Engine
    clock: Clock
    sids: SidFactory
    # Base of every absolute URL in responses; None: taken from each request's Host.
    public_url: str | None = None
    max_body_bytes: int = 64 * 1024
