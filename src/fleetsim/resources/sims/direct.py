"""Sims without the ORM: the direct handlers of fetching and listing Sims, and of changing
a Sim's status (see `fleetsim.http.direct`). Each answers only its plain case and leaves
the rest to the full handler in `routes`."""

from __future__ import annotations

from typing import Any

from fleetsim.contract import operation
from fleetsim.core.errors import TwilioError
from fleetsim.core.paging import PAGING_PARAMETERS, Cursor, PageRequest
from fleetsim.core.sids import Prefix
from fleetsim.db.direct import stored_datetime
from fleetsim.db.paging import edge_page
from fleetsim.db.tables import Job, Sim
from fleetsim.engine.policies import due_at_directly
from fleetsim.http.direct import DirectAnswer, DirectCall
from fleetsim.http.params import parse_params
from fleetsim.http.urls import page_meta
from fleetsim.resources.sims.lifecycle import (
    completion_job_values,
    plan_update,
    scheduled_values,
)
from fleetsim.resources.sims.wire import SimView, render_sim_view, sim_changes

__all__ = [
    "SIM_AND_FLEET",
    "fetch_sim_directly",
    "list_sims_directly",
    "update_sim_status_directly",
]

# A Sim (`s`) and its Fleet (`f`), for `DirectReads.by_ref(..., alias="s")`.
SIM_AND_FLEET = "sims s LEFT JOIN fleets f ON f.id = s.fleet_id"
# The columns of a `SimView`.
_SIM_VIEW_COLUMNS = "s.sid, s.unique_name, s.iccid, s.status, f.sid, s.date_created, s.date_updated"


def fetch_sim_directly(call: DirectCall) -> DirectAnswer | None:
    """`fetch_sim` of a Sim that exists, without the ORM (the commonest request)."""
    if call.query:
        return None
    ref = call.path["Sid"]
    row = call.reads.by_ref(
        SIM_AND_FLEET, _SIM_VIEW_COLUMNS, call.account_id, ref, Prefix.SIM, alias="s"
    )
    if row is None:
        return None
    return 200, render_sim_view(_view(row), call.account_sid, call.urls)


# A page of `SimView`s in `id` order after a key, with their ids first (see list_sims_directly).
_SIM_PAGE_SQL = (
    "SELECT s.id, s.sid, s.unique_name, s.iccid, s.status, f.sid, s.date_created, "
    "s.date_updated FROM sims s LEFT JOIN fleets f ON f.id = s.fleet_id "
    "WHERE s.account_id = ? AND s.id > ? ORDER BY s.id LIMIT ?"
)
_SIM_AT_OR_BEFORE_SQL = "SELECT 1 FROM sims WHERE account_id = ? AND id <= ? LIMIT 1"
_LIST_SIM = operation("ListSim")
_BEFORE_EVERY_ID = -(2**63)


def list_sims_directly(call: DirectCall) -> DirectAnswer | None:
    """`list_sims` without filters, paging forwards (what the SDKs do), without the ORM:
    the same keyset query as `fetch_page`, rendered from plain rows."""
    if any(name not in PAGING_PARAMETERS for name, _ in call.query):
        return None
    try:
        request = PageRequest.from_params(parse_params(_LIST_SIM, call.query, location="query"))
        cursor = Cursor.decode(request.token, (int,)) if request.token else None
    except TwilioError:
        return None
    if cursor is not None and cursor.direction != "after":
        return None
    after = int(cursor.key[0]) if cursor else _BEFORE_EVERY_ID
    rows = call.reads.all(_SIM_PAGE_SQL, (call.account_id, after, request.page_size + 1))
    items = rows[: request.page_size]
    has_previous = cursor is not None and (
        call.reads.one(_SIM_AT_OR_BEFORE_SQL, (call.account_id, after)) is not None
    )
    page = edge_page(
        items,
        lambda row: row[0],
        has_next=len(rows) > request.page_size,
        has_previous=has_previous,
    )
    sims = [render_sim_view(_view(row[1:]), call.account_sid, call.urls) for row in items]
    meta = page_meta(call.urls, "/v1/Sims", "sims", [], request, page)
    return 200, {"sims": sims, "meta": meta}


_UPDATE_SIM = operation("UpdateSim")
_STATUS_CHANGE = frozenset({"Status", "Fleet", "CallbackUrl", "CallbackMethod"})
_SIM_TO_UPDATE_COLUMNS = (
    "s.id, s.sid, s.unique_name, s.iccid, s.status, s.fleet_id, f.sid, s.date_created"
)


def update_sim_status_directly(call: DirectCall) -> DirectAnswer | None:
    """`update_sim` of the status, perhaps with a Fleet to be in (and a callback): the
    change is scheduled as `service.update_sim` schedules it, with the plan, values and
    job of the same functions."""
    if call.query or any(name not in _STATUS_CHANGE for name, _ in call.form):
        return None
    changes = sim_changes(parse_params(_UPDATE_SIM, call.form, location="form"))
    if changes.status is None or changes.fleet == "":
        return None
    writes = call.writes
    found = writes.by_ref(
        SIM_AND_FLEET,
        _SIM_TO_UPDATE_COLUMNS,
        call.account_id,
        call.path["Sid"],
        Prefix.SIM,
        alias="s",
    )
    if found is None:
        return None
    sim_id, sid, unique_name, iccid, status, fleet_id, fleet_sid, created = found
    target_id, target_sid = fleet_id, fleet_sid
    if changes.fleet is not None:
        target = writes.by_ref("fleets", "id, sid", call.account_id, changes.fleet, Prefix.FLEET)
        if target is None:
            return None
        target_id, target_sid = target
    plan = plan_update(
        status,
        fleet_id,
        status=changes.status,
        fleet_given=changes.fleet is not None,
        fleet_id=target_id,
    )
    if not plan.scheduled:
        return None
    now = call.clock.now()
    values = scheduled_values(
        status,
        plan,
        target_id,
        callback_url=changes.callback_url,
        callback_method=changes.callback_method,
    )
    values["date_updated"] = now
    if plan.fleet_now:
        values["fleet_id"] = target_id
        fleet_sid = target_sid
    if writes.update(Sim, values, id=sim_id, status=status) != 1:
        return None  # changed since it was read (PostgreSQL): the full handler locks it
    due_at = due_at_directly(writes, "sim", now)
    writes.insert(Job, completion_job_values(sim_id, sid, due_at=due_at, now=now))
    view = SimView(sid, unique_name, iccid, "scheduled", fleet_sid, stored_datetime(created), now)
    return 202, render_sim_view(view, call.account_sid, call.urls)


def _view(row: tuple[Any, ...]) -> SimView:
    sid, unique_name, iccid, status, fleet_sid, created, updated = row
    dates = (stored_datetime(created), stored_datetime(updated))
    return SimView(sid, unique_name, iccid, status, fleet_sid, *dates)
