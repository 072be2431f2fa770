"""Settings packages, and the update every card carries from manufacture.

Kept apart from `service` so that registering a Sim can record its factory settings
without importing the rest of the resource.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.store import Tx
from fleetsim.db.tables import SettingsUpdate

__all__ = [
    "BASE_PACKAGE",
    "Package",
    "dump_packages",
    "load_packages",
    "package",
    "record_factory_settings",
    "with_package",
]

Package = dict[str, str]

MORE_INFO = "https://twilio.com/docs/iot/supersim/settings-packages/{name}"


def package(name: str, version: str) -> Package:
    """A package as Settings Updates show it."""
    return {"name": name, "version": version, "more_info": MORE_INFO.format(name=name)}


BASE_PACKAGE = package("base-settings", "1.0.0")


def dump_packages(packages: list[Package]) -> str:
    return json.dumps(packages, separators=(",", ":"))


def load_packages(text: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(text)
    return loaded


def with_package(packages: list[dict[str, Any]], added: Package) -> list[Package]:
    """`packages` with `added` in place of the package of the same name (or at the end)."""
    result = [{k: str(v) for k, v in p.items()} for p in packages if p["name"] != added["name"]]
    return [*result, added]


_BASE_PACKAGES = dump_packages([BASE_PACKAGE])


def record_factory_settings(
    tx: Tx, sims: Sequence[tuple[int, str, dt.datetime]], *, sids: SidFactory
) -> None:
    """The base settings package each card was made with, for each Sim (id, ICCID, the
    card's manufacture: its entry in the warehouse): a `successful` update dated then."""
    packages = _BASE_PACKAGES
    rows = [
        {
            "sid": sids.new(Prefix.SETTINGS_UPDATE),
            "sim_id": sim_id,
            "iccid": iccid,
            "status": "successful",
            "packages": packages,
            "outcome": "successful",
            "date_completed": made,
            "date_created": made,
            "date_updated": made,
        }
        for sim_id, iccid, made in sims
    ]
    tx.insert_many(SettingsUpdate, rows)
