"""SMS Commands in the database: what a delivery and a callback read of a command."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from fleetsim.db.store import Tx, stored_datetime
from fleetsim.db.tables import SmsCommand

__all__ = ["CommandFacts", "find_facts"]


class CommandFacts(NamedTuple):
    """An SMS Command with its Sim and its account's SID: what its delivery decides by and
    what its callbacks carry."""

    id: int
    sid: str
    account_id: int
    account_sid: str
    payload: str
    status: str
    direction: str
    callback_url: str | None
    callback_method: str | None
    expires_at: dt.datetime | None
    date_created: dt.datetime
    sim_id: int
    sim_sid: str
    sim_unique_name: str | None
    sim_iccid: str
    sim_status: str
    sim_settled_status: str | None

    @classmethod
    def of(cls, command: SmsCommand, account_sid: str) -> CommandFacts:
        """The facts of a command the ORM loaded with its Sim."""
        sim = command.sim
        return cls(
            command.id,
            command.sid,
            command.account_id,
            account_sid,
            command.payload,
            command.status,
            command.direction,
            command.callback_url,
            command.callback_method,
            command.expires_at,
            command.date_created,
            sim.id,
            sim.sid,
            sim.unique_name,
            sim.iccid,
            sim.status,
            sim.settled_status,
        )


_FACTS = (
    "SELECT c.id, c.sid, c.account_id, a.sid, c.payload, c.status, c.direction,"
    " c.callback_url, c.callback_method, c.expires_at, c.date_created,"
    " s.id, s.sid, s.unique_name, s.iccid, s.status, s.settled_status"
    " FROM sms_commands c JOIN sims s ON s.id = c.sim_id JOIN accounts a ON a.id = c.account_id"
    " WHERE c.id = ?"
)


def find_facts(tx: Tx, command_id: int) -> CommandFacts | None:
    """The command `command_id`, or None."""
    row = tx.one(_FACTS, (command_id,))
    if row is None:
        return None
    values = list(row)
    expires_at, date_created = values[9], values[10]  # as stored: see `stored_datetime`
    values[9] = None if expires_at is None else stored_datetime(expires_at)
    values[10] = stored_datetime(date_created)
    return CommandFacts._make(values)
