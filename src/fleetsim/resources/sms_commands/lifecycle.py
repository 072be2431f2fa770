"""An SMS Command's lifecycle: the transition table, delivery to the device, callbacks.

Mobile-terminated commands (`to_sim`) start `queued`. Their first delivery attempt falls
due by the `sms_command` progression policy and makes them `sent`; if the device is
attached the message lands in its inbox (from the number 000) and the command is
`delivered` at once. A device that is away is tried again 5, 10, 20 and 40 minutes later,
then hourly, and at once when it attaches (the job waits on `awaiting_attach`), until 24
hours after the command was created: then the command is `failed`. Mobile-originated
commands (`from_sim`) are `received` and stay so.

The command's `CallbackUrl` is called on every status change after `queued`. Every
attempt is a job whose subject is `awaiting_attach(<SimSid>)`: an attach makes it due at
once, even a first attempt held by the `manual` policy (which the control API progresses
as `/control/lifecycles/sms_command/attach:<SimSid>/progress`).

Deviations (Twilio does not document these): the callback's and the Fleet webhook's
parameters (`SmsCommandSid`, `AccountSid`, `SimSid`, `SimUniqueName`, `SimIccid`,
`Payload`, `Status`, `Direction`, `DateCreated`) follow Twilio's naming but are fleetsim's
choice; `sent` and `delivered` happen in the same instant when the device is attached at
the first attempt; a command is delivered only while its Sim is `ready` or `active`, and
otherwise keeps waiting like one whose device is away; the retry schedule is fleetsim's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fleetsim.billing.periods import lock_device
from fleetsim.core.dates import iso
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, Job, SmsCommand
from fleetsim.engine.jobs import job_values
from fleetsim.engine.worker import JobContext, transactional
from fleetsim.network.devices import awaiting_attach, effective_status, receive_message
from fleetsim.network.usage import record_sms
from fleetsim.resources.sims.lifecycle import CONNECTED
from fleetsim.webhooks.service import enqueue_webhook

__all__ = [
    "DELIVER",
    "DELIVERY_WINDOW",
    "TRANSITIONS",
    "callback_params",
    "deliver_sms_command",
    "delivery_job_values",
    "retry_delay",
    "schedule_delivery",
]

DELIVER = "sms_command.deliver"
DELIVERY_WINDOW = dt.timedelta(hours=24)

# Statuses a command may move to, by the status it has; `received` and the ends are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"sent"}),
    "sent": frozenset({"delivered", "failed"}),
    "delivered": frozenset(),
    "failed": frozenset(),
    "received": frozenset(),
}


def retry_delay(attempt: int) -> dt.timedelta:
    """Wait after delivery attempt `attempt` (1-based) found the device away."""
    return dt.timedelta(minutes=min(5 * 2 ** (attempt - 1), 60))


def schedule_delivery(
    session: Session,
    command: SmsCommand,
    sim_sid: str,
    *,
    attempt: int,
    due_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """The job of delivery attempt `attempt`; an attach of the Sim's device makes it due."""
    values = delivery_job_values(command.id, sim_sid, attempt=attempt, due_at=due_at, now=now)
    session.add(Job(**values))


def delivery_job_values(
    command_id: int, sim_sid: str, *, attempt: int, due_at: dt.datetime | None, now: dt.datetime
) -> dict[str, Any]:
    """The job of delivery attempt `attempt` of command `command_id`."""
    return job_values(
        DELIVER,
        {"sms_command_id": command_id, "attempt": attempt},
        due_at=due_at,
        now=now,
        subject=awaiting_attach(sim_sid),
    )


def callback_params(command: SmsCommand, account_sid: str) -> list[tuple[str, str]]:
    """What a status callback or a Fleet's `sms_commands_url` webhook carries."""
    sim = command.sim
    return [
        ("SmsCommandSid", command.sid),
        ("AccountSid", account_sid),
        ("SimSid", sim.sid),
        ("SimUniqueName", sim.unique_name or ""),
        ("SimIccid", sim.iccid),
        ("Payload", command.payload),
        ("Status", command.status),
        ("Direction", command.direction),
        ("DateCreated", iso(command.date_created)),
    ]


def _move(session: Session, command: SmsCommand, status: str, *, now: dt.datetime) -> None:
    if status not in TRANSITIONS[command.status]:
        raise ValueError(f"an SMS Command cannot go from {command.status} to {status}")
    command.status = status
    command.date_updated = now
    if command.callback_url:
        account_sid = session.execute(
            select(Account.sid).where(Account.id == command.account_id)
        ).scalar_one()
        enqueue_webhook(
            session,
            command.account_id,
            kind="sms_command.status",
            url=command.callback_url,
            method=command.callback_method or "POST",
            params=callback_params(command, account_sid),
            subject=command.sid,
            now=now,
        )
    session.flush()


def _deliver(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    command = session.execute(
        select(SmsCommand)
        .where(SmsCommand.id == payload["sms_command_id"])
        .options(joinedload(SmsCommand.sim))
    ).scalar_one_or_none()
    if command is None or command.status not in ("queued", "sent"):
        return  # an earlier attempt settled it
    now = context.clock.now()
    if command.status == "queued":
        _move(session, command, "sent", now=now)
    sim = command.sim
    # Lock the device before the inbox row refers to it: that insert takes a key-share lock
    # on the device, and record_sms's lock would then deadlock with another delivery to the
    # same Sim holding the same key-share lock (PostgreSQL, seen under load).
    device = lock_device(session, sim.id)
    assert device is not None, f"Super SIM {sim.sid} has no device row"
    if device.state == "attached" and effective_status(sim) in CONNECTED:
        receive_message(
            session, device, kind="sms", command_sid=command.sid, payload=command.payload, now=now
        )
        _move(session, command, "delivered", now=now)
        record_sms(session, sim, now=now, sids=context.sids)
        return
    expires_at = command.expires_at or now
    if now >= expires_at:
        _move(session, command, "failed", now=now)
        return
    attempt = int(str(payload.get("attempt", 1)))
    retry_at = min(now + retry_delay(attempt), expires_at)
    schedule_delivery(session, command, sim.sid, attempt=attempt + 1, due_at=retry_at, now=now)


deliver_sms_command = transactional(_deliver)
