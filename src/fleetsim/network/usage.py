"""Data and SMS use by devices: counted toward the Sim's billing period (work in progress)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from fleetsim.core.sids import SidFactory
from fleetsim.db.tables import Sim

__all__ = ["record_sms"]


def record_sms(session: Session, sim: Sim, *, now: dt.datetime, sids: SidFactory) -> None:
    """Count one SMS toward the Sim's current billing period (ready -> active after 5)."""
    return
