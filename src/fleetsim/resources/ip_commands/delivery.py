"""Delivering a mobile-terminated IP Command: the job that sends it or fails it.

    queued --(device attached, data flowing)--> sent      (in the device's inbox)
    queued --(device not attached)-----------> failed    (83401)
    queued --(device's data blocked)---------> failed    (83400)

The status change, the inbox entry, the callback and the job's completion commit together;
then, for a device bound to a real UDP endpoint, the datagram is sent there from the UDP
bridge of this process (or, in a process without one, such as `fleetsim worker`, from a
throwaway socket, so replies cannot come back to fleetsim). UDP promises nothing: a
datagram lost on the way leaves the command `sent`, as on a real network, and a worker that
dies between the commit and the send loses it.

Deviations (Twilio's answers are unconfirmed): a command is not held for a device that
attaches later; a device whose data is blocked fails it with 83400; the error code of a
failed command appears only in its callback's `ErrorCode` (the resource has no field
for it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, Device, IpCommand
from fleetsim.db.units import transaction
from fleetsim.engine.jobs import ClaimedJob, complete
from fleetsim.engine.worker import JobContext, JobHandler
from fleetsim.network.devices import receive_message
from fleetsim.resources.ip_commands.service import DELIVER, callback_params, datagram_of
from fleetsim.resources.ip_commands.udp import Datagram, send_datagram
from fleetsim.webhooks.service import enqueue_webhook

__all__ = ["DELIVER", "JOB_HANDLERS", "deliver_ip_command", "send_ip_command"]

NOT_ATTACHED = 83401
DATA_BLOCKED = 83400


def send_ip_command(session: Session, command_id: int, *, now: dt.datetime) -> Datagram | None:
    """Move a queued command to `sent` or `failed`; the datagram to send, if any."""
    command = session.execute(
        select(IpCommand).where(IpCommand.id == command_id).options(joinedload(IpCommand.sim))
    ).scalar_one_or_none()
    if command is None or command.status != "queued":
        return None  # an earlier run settled it
    device = session.execute(select(Device).where(Device.sim_id == command.sim_id)).scalar_one()
    error_code = None
    if device.state != "attached":
        error_code = NOT_ATTACHED
    elif device.data_blocked:
        error_code = DATA_BLOCKED
    datagram = None
    if error_code is None:
        command.status = "sent"
        command.device_ip = device.ip_address
        receive_message(
            Tx.of(session),
            device.id,
            kind="ip",
            command_sid=command.sid,
            payload=command.payload,
            payload_type=command.payload_type,
            port=command.device_port,
            now=now,
        )
        if device.udp_host and device.udp_port:
            data = datagram_of(command.payload, command.payload_type)
            datagram = Datagram(device.udp_host, device.udp_port, data)
    else:
        command.status = "failed"
    command.date_updated = now
    if command.callback_url:
        account_sid = session.execute(
            select(Account.sid).where(Account.id == command.account_id)
        ).scalar_one()
        enqueue_webhook(
            Tx.of(session),
            command.account_id,
            kind=f"ip_command.{command.status}",
            url=command.callback_url,
            method=command.callback_method or "POST",
            params=callback_params(command, account_sid, error_code=error_code),
            subject=command.sid,
            now=now,
        )
    session.flush()
    return datagram


def deliver_ip_command(context: JobContext, job: ClaimedJob) -> None:
    """The job: settle the command in one unit of work, then send its datagram."""
    with transaction(context.engine, write=True) as tx:
        now = context.clock.now()
        datagram = send_ip_command(tx.session, int(str(job.payload["ip_command_id"])), now=now)
        complete(tx, job, now=now)
    if datagram is not None:
        send_datagram(datagram)


JOB_HANDLERS: dict[str, JobHandler] = {DELIVER: deliver_ip_command}
