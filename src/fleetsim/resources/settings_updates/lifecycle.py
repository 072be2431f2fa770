"""A Settings Update's progress, driven by the engine:

    scheduled --(the Sim's device attaches)--> in-progress --(delay)--> successful | failed

A scheduled update waits for the device: its start job has the subject
`awaiting_attach(<SimSid>)`, which an attach makes due at once (and a device already
attached when the update is scheduled starts it at once). The step to the end falls due by
the `settings_update` progression policy; with `manual` the control API completes it as
`/control/lifecycles/settings_update/<SettingsUpdateSid>/progress`. A device that detaches
while an update is in progress holds it there until it attaches again. The operator chose
the end when scheduling it; `successful` sets `date_completed`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fleetsim.db.store import Tx
from fleetsim.db.tables import Device, SettingsUpdate
from fleetsim.engine.jobs import schedule
from fleetsim.engine.policies import due_at
from fleetsim.engine.worker import JobContext, JobHandler, transactional
from fleetsim.network.devices import awaiting_attach

__all__ = ["FINISH", "JOB_HANDLERS", "START", "TRANSITIONS", "schedule_start"]

START = "settings_update.start"
FINISH = "settings_update.finish"

TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"in-progress"}),
    "in-progress": frozenset({"successful", "failed"}),
    "successful": frozenset(),
    "failed": frozenset(),
}


def _attached(session: Session, sim_id: int) -> bool:
    state = session.execute(select(Device.state).where(Device.sim_id == sim_id)).scalar_one()
    return state == "attached"


def schedule_start(
    session: Session, update: SettingsUpdate, sim_sid: str, *, now: dt.datetime
) -> None:
    """The job that starts `update` when the Sim's device attaches (now, if it is)."""
    schedule(
        session,
        START,
        {"settings_update_id": update.id},
        due_at=now if _attached(session, update.sim_id) else None,
        now=now,
        subject=awaiting_attach(sim_sid),
    )


def _move(update: SettingsUpdate, status: str, *, now: dt.datetime) -> None:
    if status not in TRANSITIONS[update.status]:
        raise ValueError(f"a Settings Update cannot go from {update.status} to {status}")
    update.status = status
    update.date_updated = now
    if status == "successful":
        update.date_completed = now


def _load(session: Session, payload: dict[str, object]) -> SettingsUpdate | None:
    return session.execute(
        select(SettingsUpdate)
        .where(SettingsUpdate.id == payload["settings_update_id"])
        .options(joinedload(SettingsUpdate.sim))
    ).scalar_one_or_none()


def _start(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    update = _load(session, payload)
    if update is None or update.status != "scheduled":
        return  # another attach started it already
    now = context.clock.now()
    if not _attached(session, update.sim_id):
        schedule_start(session, update, update.sim.sid, now=now)  # detached again: wait
        return
    _move(update, "in-progress", now=now)
    schedule(
        session,
        FINISH,
        {"settings_update_id": update.id},
        due_at=due_at(session, "settings_update", now),
        now=now,
        subject=update.sid,
    )
    session.flush()


def _finish(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    update = _load(session, payload)
    if update is None or update.status != "in-progress":
        return
    now = context.clock.now()
    if not _attached(session, update.sim_id):
        # The device went away mid-update: the rest waits for it to come back.
        schedule(
            session,
            FINISH,
            {"settings_update_id": update.id},
            due_at=None,
            now=now,
            subject=awaiting_attach(update.sim.sid),
        )
        return
    _move(update, update.outcome, now=now)
    session.flush()


JOB_HANDLERS: dict[str, JobHandler] = {
    START: transactional(_start),
    FINISH: transactional(_finish),
}
