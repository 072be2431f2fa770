"""Finding Sims among many: a search box, counts by status, a Sim's status history.

Every query starts from `owned(Sim, account)` and rides an index: the list is a keyset
over `id` on (account_id, id), (account_id, status, id) or (account_id, fleet_id, id);
a search is an exact SID, an ICCID prefix (unique index on iccid) or a unique-name prefix
((account_id, unique_name)), written as a range so that both databases use the index.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, canonical_sid, is_sid
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import owned
from fleetsim.db.tables import Account, Sim, SimStatusEvent
from fleetsim.resources.fleets.service import find_fleet

__all__ = ["count_sims_by_status", "search_sims", "status_history"]

# Above every character a unique name or ICCID may hold: the end of a prefix range.
_AFTER_PREFIX = "\U0010ffff"
# Matches above which a search walks the list instead of sorting the matches.
_MANY = 2000


_Text = InstrumentedAttribute[str] | InstrumentedAttribute[str | None]


def _prefix(column: _Text | ColumnElement[str], text: str) -> ColumnElement[bool]:
    return and_(column >= text, column < text + _AFTER_PREFIX)


def _matching(session: Session, account: Account, column: _Text, text: str) -> ColumnElement[bool]:
    """The prefix condition, written for the plan that stays fast at its number of matches.

    Few matches: the prefix index finds them all, and sorting them by id is cheap. Many
    (a short prefix): walking the list in id order and keeping the matches finds a page
    at once, while sorting them all would not; `|| ''` keeps the planner off the prefix
    index, on both databases.
    """
    condition = _prefix(column, text)
    probe = select(Sim.id).where(Sim.account_id == account.id, condition).limit(_MANY)
    found = session.execute(select(func.count()).select_from(probe.subquery())).scalar_one()
    return condition if found < _MANY else _prefix(column.concat(""), text)


def search_sims(
    session: Session,
    account: Account,
    *,
    text: str | None,
    status: str | None,
    fleet: str | None,
    page: PageRequest,
) -> Page[Sim]:
    """The account's Sims, newest first: `text` is a SID, an ICCID prefix or a unique-name
    prefix; a Fleet that does not resolve matches no Sim."""
    query = owned(Sim, account.id).options(joinedload(Sim.fleet))
    if status:
        query = query.where(Sim.status == status)
    if fleet:
        found = find_fleet(session, account, fleet)
        query = query.where(Sim.fleet_id == (found.id if found else -1))
    text = (text or "").strip()
    if text and is_sid(text, Prefix.SIM):
        query = query.where(Sim.sid == canonical_sid(text, Prefix.SIM))
    elif text.isdigit():
        query = query.where(_matching(session, account, Sim.iccid, text))
    elif text:
        query = query.where(_matching(session, account, Sim.unique_name, text))
    return fetch_page(session, query, Sim.id, page, descending=True)


def count_sims_by_status(session: Session, account: Account) -> dict[str, int]:
    """How many Sims the account has in each status (on the (account_id, status) index)."""
    rows = session.execute(
        select(Sim.status, func.count())
        .where(Sim.account_id == account.id)
        .group_by(Sim.status)
        .order_by(Sim.status)
    )
    return {str(status): int(count) for status, count in rows}


def status_history(session: Session, sim: Sim, *, limit: int = 50) -> list[SimStatusEvent]:
    """The Sim's latest status changes, newest first."""
    query = (
        select(SimStatusEvent)
        .where(SimStatusEvent.sim_id == sim.id)
        .order_by(SimStatusEvent.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars())
