"""The catalogue of real cellular networks, loaded from `fleetsim/data/networks.csv`.

The file is made by `scripts/make_networks.py` from a maintained MCC/MNC data set; SIDs are
derived from country and name, so every installation has the same Network SIDs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources

from sqlalchemy import func, select
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
    added = 0
    for entry in catalogue:
        if entry.sid in known:
            continue
        network = Network(
            sid=entry.sid, friendly_name=entry.friendly_name, iso_country=entry.iso_country
        )
        session.add(network)
        session.flush()
        session.add_all(
            NetworkIdentifier(network_id=network.id, mcc=mcc, mnc=mnc)
            for mcc, mnc in entry.identifiers
        )
        added += 1
    session.flush()
    return added
