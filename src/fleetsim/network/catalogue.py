"""The catalogue of real cellular networks, loaded from `fleetsim/data/networks.csv`.

The file is made by `scripts/make_networks.py` from a maintained MCC/MNC data set; SIDs are
derived from country and name, so every installation has the same Network SIDs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fleetsim.db.tables import Network, NetworkIdentifier

__all__ = ["CatalogueEntry", "read_catalogue", "sync_catalogue"]


@dataclass
class CatalogueEntry:
    sid: str
    friendly_name: str
    iso_country: str
    identifiers: list[tuple[str, str]] = field(default_factory=list)


def read_catalogue() -> list[CatalogueEntry]:
    text = resources.files("fleetsim.data").joinpath("networks.csv").read_text("utf-8")
    entries: dict[str, CatalogueEntry] = {}
    for row in csv.DictReader(io.StringIO(text)):
        entry = entries.setdefault(
            row["sid"], CatalogueEntry(row["sid"], row["friendly_name"], row["iso_country"])
        )
        entry.identifiers.append((row["mcc"], row["mnc"]))
    return list(entries.values())


def sync_catalogue(session: Session) -> int:
    """Insert the networks of the data file that the database lacks; return how many."""
    catalogue = read_catalogue()
    present = session.execute(select(func.count()).select_from(Network)).scalar_one()
    if present >= len(catalogue):
        return 0
    known = set(session.execute(select(Network.sid)).scalars())
    missing = [entry for entry in catalogue if entry.sid not in known]
    if not missing:
        return 0
    # Two batches, not a flush per network, which slowed a fresh database's first start.
    # The ids come back in the order the networks went in.
    rows = [
        {"sid": e.sid, "friendly_name": e.friendly_name, "iso_country": e.iso_country}
        for e in missing
    ]
    made = session.execute(
        insert(Network).returning(Network.id, sort_by_parameter_order=True), rows
    )
    identifiers = [
        {"network_id": network_id, "mcc": mcc, "mnc": mnc}
        for (network_id,), entry in zip(made, missing, strict=True)
        for mcc, mnc in entry.identifiers
    ]
    session.execute(insert(NetworkIdentifier), identifiers)
    return len(missing)
