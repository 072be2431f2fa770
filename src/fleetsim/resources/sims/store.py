"""Sims in the database: the statements the rules of `service` run, and what they return."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix
from fleetsim.db.paging import Page, page_of_rows
from fleetsim.db.store import Row, Tx

__all__ = ["SIM_AND_FLEET", "LockedSim", "SimView", "find_locked", "find_view", "page_of_views"]

# A Sim (`s`) and its Fleet (`f`), for `Tx.by_ref(..., alias="s")` here and in the rules of
# the commands sent to a Sim.
SIM_AND_FLEET = "sims s LEFT JOIN fleets f ON f.id = s.fleet_id"
_VIEW_COLUMNS = (
    "s.id, s.sid, s.unique_name, s.iccid, s.status, f.sid, s.date_created, s.date_updated"
)


class SimView(NamedTuple):
    """What a Sim's representation shows. Its dates are kept as they came, read by a Tx
    (`stored_datetime` makes them datetimes) or given by the clock: a page renders them
    (`stored_iso`) without making datetimes."""

    id: int
    sid: str
    unique_name: str | None
    iccid: str
    status: str
    fleet_sid: str | None
    created: dt.datetime | str
    updated: dt.datetime | str


def _view(row: Row) -> SimView:
    return SimView(*row)


def find_view(tx: Tx, account_id: int, ref: str) -> SimView | None:
    """The account's Sim addressed by SID or unique name."""
    row = tx.by_ref(SIM_AND_FLEET, _VIEW_COLUMNS, account_id, ref, Prefix.SIM, alias="s")
    return None if row is None else _view(row)


# Filters of a list, by name: the condition each adds (names from the code).
_FILTERS = {"status": "s.status = ?", "fleet_id": "s.fleet_id = ?", "iccid": "s.iccid = ?"}


def page_of_views(
    tx: Tx, account_id: int, filters: dict[str, object], page: PageRequest
) -> Page[SimView]:
    """A page of the account's Sims, oldest first, matching every filter given."""
    names = tuple(name for name in _FILTERS if filters.get(name) is not None)
    where = " AND ".join(["s.account_id = ?", *(_FILTERS[name] for name in names)])
    rows = page_of_rows(
        tx,
        columns=_VIEW_COLUMNS,
        source=SIM_AND_FLEET,
        where=where,
        params=(account_id, *(filters[name] for name in names)),
        key="s.id",
        request=page,
    )
    return Page([_view(row) for row in rows.items], rows.next, rows.previous)


class LockedSim(NamedTuple):
    """A Sim about to change, locked until the transaction ends."""

    view: SimView
    fleet_id: int | None


def find_locked(tx: Tx, account_id: int, ref: str) -> LockedSim | None:
    """The account's Sim addressed by SID or unique name, locked against other changes
    (PostgreSQL; SQLite's writer already has the whole database)."""
    columns = f"{_VIEW_COLUMNS}, s.fleet_id"
    row = tx.by_ref(SIM_AND_FLEET, columns, account_id, ref, Prefix.SIM, alias="s", lock=True)
    return None if row is None else LockedSim(_view(row[:8]), row[8])
