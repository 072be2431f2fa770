"""Settings Updates on the wire (they have no `url` and no `account_sid`)."""

from __future__ import annotations

from typing import Any

from fleetsim.core.dates import iso, iso_or_none
from fleetsim.db.tables import SettingsUpdate
from fleetsim.resources.settings_updates.packages import load_packages

__all__ = ["render_settings_update"]


def render_settings_update(update: SettingsUpdate) -> dict[str, Any]:
    return {
        "sid": update.sid,
        "iccid": update.iccid,
        "sim_sid": update.sim.sid,
        "status": update.status,
        "packages": load_packages(update.packages),
        "date_completed": iso_or_none(update.date_completed),
        "date_created": iso(update.date_created),
        "date_updated": iso(update.date_updated),
    }
