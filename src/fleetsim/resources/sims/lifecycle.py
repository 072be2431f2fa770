"""A Sim's status lifecycle: the transition table, the plan of an update, its completion.

Status changes, and Fleet changes of a `ready` or `active` Sim, complete asynchronously:
the Sim shows `scheduled` while a job (due by the `sim` progression policy) carries the
update out, then calls the update's `CallbackUrl`.

Deviations (Twilio's answers are unconfirmed): `new -> inactive` is allowed; asking for
the status a Sim already has changes nothing (200); any Status change while `scheduled`
answers 83010; the response of a scheduled Fleet change shows the Fleet still in force
until the update completes; `CallbackUrl` is called only for updates that were scheduled.
The callback's parameters (`AccountSid`, `SimSid`, `SimUniqueName`, `SimIccid`, `Status`,
`FleetSid`, `DateUpdated`) follow Twilio's naming; Twilio does not document its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, joinedload

from fleetsim.billing.periods import statuses_took_effect
from fleetsim.core.dates import iso
from fleetsim.core.errors import (
    SimActivationNeedsFleet,
    SimFleetChangeWhileScheduled,
    SimFleetRequired,
    SimStatusChangeRefused,
)
from fleetsim.core.sids import SidFactory
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, Fleet, Sim, SimStatusEvent
from fleetsim.engine.jobs import job_values
from fleetsim.engine.worker import JobContext, transactional
from fleetsim.webhooks.service import enqueue_webhook

__all__ = [
    "COMPLETE_UPDATE",
    "TRANSITIONS",
    "Plan",
    "complete_update",
    "complete_updates",
    "completion_job_values",
    "plan_update",
    "scheduled_values",
    "update_now",
]

COMPLETE_UPDATE = "sim.complete_update"

# Status a Sim may be set to, by the status it has. `new` is never a target: once a Sim
# has been ready or active it can never be new again.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"ready", "active", "inactive"}),
    "ready": frozenset({"active", "inactive"}),
    "active": frozenset({"inactive"}),
    "inactive": frozenset({"active"}),
}
CONNECTED = frozenset({"ready", "active"})


@dataclass(frozen=True)
class Plan:
    """What an update does: a status to reach, and whether the Fleet changes now or later."""

    status: str | None
    fleet_now: bool
    fleet_later: bool

    @property
    def scheduled(self) -> bool:
        return self.status is not None or self.fleet_later


def plan_update(
    current: str,
    current_fleet_id: int | None,
    *,
    status: str | None,
    fleet_given: bool,
    fleet_id: int | None,
) -> Plan:
    """Check an update of a Sim in status `current` and Fleet `current_fleet_id` against
    the rules (83007-83010) and say how it proceeds; `fleet_id` is the Fleet it will be in
    (None: none)."""
    if current == "scheduled":
        if fleet_given:
            raise SimFleetChangeWhileScheduled()
        if status is not None:
            raise SimStatusChangeRefused("an earlier update of this Super SIM is in progress")
        return Plan(None, fleet_now=False, fleet_later=False)
    wanted = None if status is None or status == current else status
    if wanted is not None and wanted not in TRANSITIONS[current]:
        if wanted == "ready":
            raise SimStatusChangeRefused("only a Super SIM in status new can become ready")
        raise SimStatusChangeRefused(f"a Super SIM in status {current} cannot become {wanted}")
    if fleet_given and fleet_id is None and current in CONNECTED and wanted != "inactive":
        raise SimFleetRequired()
    if (wanted in CONNECTED) and fleet_id is None:
        raise SimActivationNeedsFleet()
    fleet_changes = fleet_given and fleet_id != current_fleet_id
    later = fleet_changes and current in CONNECTED
    return Plan(wanted, fleet_now=fleet_changes and not later, fleet_later=later)


def completion_job_values(
    sim_id: int, sim_sid: str, *, due_at: dt.datetime | None, now: dt.datetime
) -> dict[str, Any]:
    """The job that completes a Sim's scheduled update (`complete_update`)."""
    return job_values(COMPLETE_UPDATE, {"sim_id": sim_id}, due_at=due_at, now=now, subject=sim_sid)


def scheduled_values(
    current: str,
    plan: Plan,
    fleet_id: int | None,
    *,
    callback_url: str | None,
    callback_method: str | None,
) -> dict[str, Any]:
    """The columns a `scheduled` plan sets on a Sim in status `current` (and Fleet
    `fleet_id`, where it will be): for `update_sim` and `update_now`."""
    return {
        "settled_status": current,
        "target_status": plan.status or current,
        "status": "scheduled",
        "fleet_change_pending": plan.fleet_later,
        "target_fleet_id": fleet_id if plan.fleet_later else None,
        "callback_url": callback_url or None,
        "callback_method": callback_method or "POST",
    }


def _complete_update(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    sim = session.execute(
        select(Sim).where(Sim.id == payload["sim_id"]).options(joinedload(Sim.fleet))
    ).scalar_one_or_none()
    if sim is None or sim.status != "scheduled" or sim.target_status is None:
        return  # nothing pending any more: an earlier run completed it
    complete_updates(session, [sim], now=context.clock.now(), sids=context.sids)


def complete_updates(
    session: Session, sims: Sequence[Sim], *, now: dt.datetime, sids: SidFactory
) -> None:
    """Carry out the scheduled updates of `sims` (each `scheduled`, with its target), as
    their jobs do: the Fleet, the status and its event, billing, the callback."""
    changed: list[tuple[Sim, str | None]] = []
    events: list[dict[str, Any]] = []
    callbacks: list[tuple[Sim, str, str]] = []
    for sim in sims:
        target = sim.target_status
        if target is None:
            continue  # nothing pending
        if sim.fleet_change_pending:
            sim.fleet = session.get(Fleet, sim.target_fleet_id) if sim.target_fleet_id else None
        changed.append((sim, sim.settled_status))
        sim.status = target
        if sim.callback_url:
            callbacks.append((sim, sim.callback_url, sim.callback_method or "POST"))
        sim.settled_status = sim.target_status = sim.target_fleet_id = None
        sim.callback_url = sim.callback_method = None
        sim.fleet_change_pending = False
        sim.date_updated = now
        # From the relationship: `fleet_id` follows a Fleet just set only at the next flush.
        fleet_id = sim.fleet.id if sim.fleet is not None else None
        events.append(
            {"sim_id": sim.id, "status": target, "fleet_id": fleet_id, "occurred_at": now}
        )
    if events:
        session.connection().execute(insert(SimStatusEvent), events)
    # Billing periods open, switch or roll on; the ready thresholds and the data limit
    # are judged again (the Fleet may have changed).
    statuses_took_effect(session, changed, now=now, sids=sids)
    for sim, url, method in callbacks:
        account_sid = session.execute(
            select(Account.sid).where(Account.id == sim.account_id)
        ).scalar_one()
        enqueue_webhook(
            Tx.of(session),
            sim.account_id,
            kind="sim.update_completed",
            url=url,
            method=method,
            params=callback_params(sim, account_sid),
            subject=sim.sid,
            now=now,
        )


def update_now(
    session: Session,
    sims: Sequence[Sim],
    *,
    status: str,
    fleet: Fleet,
    now: dt.datetime,
    sids: SidFactory,
) -> None:
    """`Status` and `Fleet` of many Sims at once, checked by the rules of `update_sim`
    and carried out at once as its job carries them out (`complete_updates`): for Sims
    that `fleetsim simulate` and the benchmark loader make, with no request to answer.

    Deviation: no `scheduled` step, so no completion job and no callback."""
    for sim in sims:
        plan = plan_update(
            sim.status, sim.fleet_id, status=status, fleet_given=True, fleet_id=fleet.id
        )
        if plan.fleet_now:
            sim.fleet = fleet
        values = scheduled_values(
            sim.status, plan, fleet.id, callback_url=None, callback_method=None
        )
        for column, value in values.items():
            setattr(sim, column, value)
    complete_updates(session, sims, now=now, sids=sids)


complete_update = transactional(_complete_update)


def callback_params(sim: Sim, account_sid: str) -> list[tuple[str, str]]:
    return [
        ("AccountSid", account_sid),
        ("SimSid", sim.sid),
        ("SimUniqueName", sim.unique_name or ""),
        ("SimIccid", sim.iccid),
        ("Status", sim.status),
        ("FleetSid", sim.fleet.sid if sim.fleet else ""),
        ("DateUpdated", iso(sim.date_updated)),
    ]
