"""SMS Commands: send one to a Super SIM's device, receive one from it, fetch, list.

A command can only be exchanged with a Sim that is `ready` or `active` (the status in
force, for a `scheduled` Sim) in a Fleet with `sms_commands_enabled`. Its payload is at
most 160 characters of the GSM 03.38 7-bit default alphabet, the extension characters
(`^ { } \\ [ ] ~ | €`, form feed) counting two.

Deviations (Twilio's answers are unconfirmed): a payload that is too long, empty, or holds
characters outside the alphabet answers 400/20001 naming `Payload`; a Sim that is not
`ready` or `active`, or whose Fleet has SMS Commands disabled, answers 400/20001 naming
`Sim` (Twilio has no documented code for either); a `Sim` that does not resolve in the
account (unknown, or another account's) answers 404/83005 ("Super SIM not found"). Lists are
newest first (the reference recommends `date_created` descending for commands).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, joinedload

from fleetsim.core.errors import BadRequest, InvalidParameter, NotFound, SimNotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import find_by_sid, owned
from fleetsim.db.store import Tx, detached
from fleetsim.db.tables import Account, Job, Sim, SmsCommand
from fleetsim.engine.policies import due_at
from fleetsim.network.devices import device_of, effective_status, status_in_force
from fleetsim.network.usage import record_sms
from fleetsim.resources.sims.lifecycle import CONNECTED
from fleetsim.resources.sims.service import find_sim
from fleetsim.resources.sims.store import SIM_AND_FLEET
from fleetsim.resources.sms_commands.gsm import MAX_SEPTETS, outside_alphabet, septet_count
from fleetsim.resources.sms_commands.lifecycle import (
    DELIVERY_WINDOW,
    callback_params,
    delivery_job_values,
)
from fleetsim.resources.sms_commands.store import CommandFacts
from fleetsim.webhooks.service import enqueue_webhook

__all__ = [
    "DEVICE_NUMBER",
    "NewSmsCommand",
    "check_payload",
    "create_sms_command",
    "fetch_sms_command",
    "list_sms_commands",
    "new_sms_command_values",
    "receive_sms_command",
    "require_commands",
]

# The only number a device can send SMS Commands to (and the one they come from).
DEVICE_NUMBER = "000"

_WITH_SIM = joinedload(SmsCommand.sim)


@dataclass(frozen=True)
class NewSmsCommand:
    sim: str
    payload: str
    callback_url: str | None = None
    callback_method: str | None = None


def check_payload(name: str, text: str) -> None:
    """Refuse (400, naming `name`) what one GSM 7-bit SMS cannot carry."""
    if text == "":
        raise InvalidParameter(name, "must not be empty")
    foreign = outside_alphabet(text)
    if foreign:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in foreign[:5])
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        raise InvalidParameter(
            name,
            "must use only the GSM 03.38 7-bit default alphabet; "
            f"these characters are outside it: {shown}{more}",
        )
    length = septet_count(text)
    if length > MAX_SEPTETS:
        raise InvalidParameter(
            name,
            f"is {length} characters long and an SMS Command holds at most {MAX_SEPTETS} "
            "(GSM 03.38 7-bit; ^ { } \\ [ ] ~ | € and form feed count as 2)",
        )


def _require_commands(sim: Sim) -> None:
    fleet = sim.fleet
    require_commands(
        sim.sid,
        effective_status(sim),
        None if fleet is None else fleet.sid,
        fleet is not None and fleet.sms_commands_enabled,
    )


def require_commands(
    sim_sid: str, status: str, fleet_sid: str | None, sms_commands_enabled: bool
) -> None:
    """Refuse (400, naming Sim) a Sim that cannot exchange SMS Commands now: one whose
    status in force is `status`, in the Fleet `fleet_sid`."""
    if status not in CONNECTED:
        raise InvalidParameter(
            "Sim",
            f"the Super SIM {sim_sid} is {status}; set its Status to ready or active "
            "before exchanging SMS Commands",
        )
    if fleet_sid is None:
        raise InvalidParameter("Sim", f"the Super SIM {sim_sid} belongs to no Fleet")
    if not sms_commands_enabled:
        raise InvalidParameter(
            "Sim",
            f"SMS Commands are disabled on the Super SIM's Fleet {fleet_sid}; SmsCommandsEnabled "
            "is fixed when a Fleet is created, so move the Super SIM to a Fleet that has them",
        )


# The columns a command's checks read of its Sim (`s`) and the Sim's Fleet (`f`).
_SIM_COLUMNS = "s.id, s.sid, s.status, s.settled_status, f.sid, f.sms_commands_enabled"


def create_sms_command(
    tx: Tx,
    account: Account,
    *,
    command: NewSmsCommand,
    now: dt.datetime,
    sids: SidFactory,
) -> SmsCommand:
    """Queue an SMS Command to the Sim's device; delivery follows (see `lifecycle`)."""
    check_payload("Payload", command.payload)
    found = tx.by_ref(SIM_AND_FLEET, _SIM_COLUMNS, account.id, command.sim, Prefix.SIM, alias="s")
    if found is None:
        raise SimNotFound(command.sim)
    sim_id, sim_sid, status, settled_status, fleet_sid, sms_commands_enabled = found
    in_force = status_in_force(status, settled_status)
    require_commands(sim_sid, in_force, fleet_sid, bool(sms_commands_enabled))
    sim = detached(Sim, {"id": sim_id, "sid": sim_sid})
    row = tx.insert(
        SmsCommand, new_sms_command_values(account.id, sim, command, now=now, sids=sids)
    )
    due = due_at(tx, "sms_command", now)
    tx.insert_id(Job, delivery_job_values(row.id, sim_sid, attempt=1, due_at=due, now=now))
    return row


def new_sms_command_values(
    account_id: int, sim: Sim, command: NewSmsCommand, *, now: dt.datetime, sids: SidFactory
) -> dict[str, Any]:
    """The row of a command to `sim`, whose payload and Sim have been checked."""
    return {
        "sid": sids.new(Prefix.SMS_COMMAND),
        "account_id": account_id,
        "sim_id": sim.id,
        "sim": sim,
        "payload": command.payload,
        "status": "queued",
        "direction": "to_sim",
        "callback_url": command.callback_url or None,
        "callback_method": (command.callback_method or "POST") if command.callback_url else None,
        "expires_at": now + DELIVERY_WINDOW,
        "date_created": now,
        "date_updated": now,
    }


def receive_sms_command(
    session: Session,
    account: Account,
    sim_ref: str,
    *,
    to: str,
    body: str,
    now: dt.datetime,
    sids: SidFactory,
) -> SmsCommand:
    """An SMS the Sim's device sends to 000: stored `received`, and sent on to the Fleet's
    `sms_commands_url` if it has one."""
    sim, device = device_of(session, account, sim_ref)
    if device.state != "attached":
        raise BadRequest(
            f"The device of Super SIM {sim.sid} is not attached to a network: attach it first "
            f"(POST /devices/{sim.sid}/attach), then send"
        )
    if to != DEVICE_NUMBER:
        raise InvalidParameter(
            "To", f"a device sends SMS Commands to {DEVICE_NUMBER}, Super SIM's only number"
        )
    check_payload("Body", body)
    _require_commands(sim)
    row = SmsCommand(
        sid=sids.new(Prefix.SMS_COMMAND),
        account_id=account.id,
        sim=sim,
        payload=body,
        status="received",
        direction="from_sim",
        callback_url=None,
        callback_method=None,
        expires_at=None,
        date_created=now,
        date_updated=now,
    )
    session.add(row)
    session.flush()
    record_sms(Tx.of(session), sim.id, now=now, sids=sids)
    fleet = sim.fleet
    if fleet is not None and fleet.sms_commands_url:
        enqueue_webhook(
            Tx.of(session),
            account,
            kind="sms_command.received",
            url=fleet.sms_commands_url,
            method=fleet.sms_commands_method,
            params=callback_params(CommandFacts.of(row, account.sid)),
            subject=row.sid,
            now=now,
        )
    return row


def fetch_sms_command(session: Session, account: Account, sid: str) -> SmsCommand:
    """The account's SMS Command by SID (commands have no unique name)."""
    found = find_by_sid(session, SmsCommand, account.id, sid, Prefix.SMS_COMMAND, _WITH_SIM)
    if found is None:
        raise NotFound(f"/SmsCommands/{sid}")
    return found


def list_sms_commands(
    session: Session,
    account: Account,
    *,
    sim: str | None,
    status: str | None,
    direction: str | None,
    page: PageRequest,
) -> Page[SmsCommand]:
    """SMS Commands, newest first, filtered; a Sim that does not resolve matches none."""
    query = owned(SmsCommand, account.id).options(_WITH_SIM)
    if sim is not None:
        found = find_sim(session, account, sim)
        query = query.where(SmsCommand.sim_id == (found.id if found else -1))
    if status is not None:
        query = query.where(SmsCommand.status == status)
    if direction is not None:
        query = query.where(SmsCommand.direction == direction)
    return fetch_page(session, query, SmsCommand.id, page, descending=True)
