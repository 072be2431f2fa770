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

from fleetsim.billing.device_locks import lock_device
from fleetsim.core.dates import iso
from fleetsim.db.store import Tx
from fleetsim.db.tables import Job, SmsCommand
from fleetsim.engine.jobs import job_values
from fleetsim.engine.worker import JobContext, transactional
from fleetsim.network.devices import awaiting_attach, receive_message, status_in_force
from fleetsim.network.usage import record_sms
from fleetsim.resources.sims.lifecycle import CONNECTED
from fleetsim.resources.sms_commands.store import CommandFacts, find_facts
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
    tx: Tx,
    command_id: int,
    sim_sid: str,
    *,
    attempt: int,
    due_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """The job of delivery attempt `attempt`; an attach of the Sim's device makes it due."""
    values = delivery_job_values(command_id, sim_sid, attempt=attempt, due_at=due_at, now=now)
    tx.insert_many(Job, [values])


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


def callback_params(command: CommandFacts) -> list[tuple[str, str]]:
    """What a status callback or a Fleet's `sms_commands_url` webhook carries."""
    return [
        ("SmsCommandSid", command.sid),
        ("AccountSid", command.account_sid),
        ("SimSid", command.sim_sid),
        ("SimUniqueName", command.sim_unique_name or ""),
        ("SimIccid", command.sim_iccid),
        ("Payload", command.payload),
        ("Status", command.status),
        ("Direction", command.direction),
        ("DateCreated", iso(command.date_created)),
    ]


def _move(tx: Tx, command: CommandFacts, status: str, *, now: dt.datetime) -> CommandFacts:
    """The command moved to `status` (its callback called); the facts it has then."""
    if status not in TRANSITIONS[command.status]:
        raise ValueError(f"an SMS Command cannot go from {command.status} to {status}")
    tx.update(SmsCommand, {"status": status, "date_updated": now}, id=command.id)
    moved = command._replace(status=status)
    if command.callback_url:
        enqueue_webhook(
            tx,
            command.account_id,
            kind="sms_command.status",
            url=command.callback_url,
            method=command.callback_method or "POST",
            params=callback_params(moved),
            subject=command.sid,
            now=now,
        )
    return moved


def _deliver(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    command = find_facts(tx, int(str(payload["sms_command_id"])))
    if command is None or command.status not in ("queued", "sent"):
        return  # an earlier attempt settled it
    now = context.clock.now()
    if command.status == "queued":
        command = _move(tx, command, "sent", now=now)
    # Lock the device before the inbox row refers to it: that insert takes a key-share lock
    # on the device, and record_sms's lock would then deadlock with another delivery to the
    # same Sim holding the same key-share lock (PostgreSQL, seen under load).
    device = lock_device(tx, command.sim_id)
    assert device is not None, f"Super SIM {command.sim_sid} has no device row"
    in_force = status_in_force(command.sim_status, command.sim_settled_status)
    if device.state == "attached" and in_force in CONNECTED:
        receive_message(
            tx, device.id, kind="sms", command_sid=command.sid, payload=command.payload, now=now
        )
        _move(tx, command, "delivered", now=now)
        record_sms(tx, command.sim_id, now=now, sids=context.sids)
        return
    expires_at = command.expires_at or now
    if now >= expires_at:
        _move(tx, command, "failed", now=now)
        return
    attempt = int(str(payload.get("attempt", 1)))
    retry_at = min(now + retry_delay(attempt), expires_at)
    schedule_delivery(
        tx, command.id, command.sim_sid, attempt=attempt + 1, due_at=retry_at, now=now
    )


deliver_sms_command = transactional(_deliver)
