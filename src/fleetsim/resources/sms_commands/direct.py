"""SMS Commands written without the ORM: the direct write of sending one (see
`fleetsim.http.direct`). It stores the command and its first delivery job as
`service.create_sms_command` does, built by the same functions, and leaves every other case
to the full handler in `routes`."""

from __future__ import annotations

from fleetsim.contract import operation
from fleetsim.core.sids import Prefix
from fleetsim.db.direct import detached
from fleetsim.db.tables import Job, Sim, SmsCommand
from fleetsim.engine.policies import due_at_directly
from fleetsim.http.direct import DirectAnswer, DirectCall
from fleetsim.http.params import parse_params
from fleetsim.network.devices import status_in_force
from fleetsim.resources.sims.direct import SIM_AND_FLEET
from fleetsim.resources.sms_commands.lifecycle import delivery_job_values
from fleetsim.resources.sms_commands.service import (
    check_payload,
    new_sms_command_values,
    require_commands,
)
from fleetsim.resources.sms_commands.wire import new_sms_command, render_sms_command

__all__ = ["create_sms_command_directly"]

_CREATE_SMS_COMMAND = operation("CreateSmsCommand")
_SIM_AND_FLEET_COLUMNS = "s.id, s.sid, s.status, s.settled_status, f.sid, f.sms_commands_enabled"


def create_sms_command_directly(call: DirectCall) -> DirectAnswer | None:
    """`create_sms_command` to a Sim of the account that can receive it."""
    if call.query:
        return None
    command = new_sms_command(parse_params(_CREATE_SMS_COMMAND, call.form, location="form"))
    check_payload("Payload", command.payload)
    found = call.writes.by_ref(
        SIM_AND_FLEET, _SIM_AND_FLEET_COLUMNS, call.account_id, command.sim, Prefix.SIM, alias="s"
    )
    if found is None:
        return None
    sim_id, sim_sid, status, settled_status, fleet_sid, sms_commands_enabled = found
    in_force = status_in_force(status, settled_status)
    require_commands(sim_sid, in_force, fleet_sid, bool(sms_commands_enabled))
    now = call.clock.now()
    sim = detached(Sim, {"id": sim_id, "sid": sim_sid})
    values = new_sms_command_values(call.account_id, sim, command, now=now, sids=call.sids)
    row = call.writes.insert(SmsCommand, values)
    due_at = due_at_directly(call.writes, "sms_command", now)
    job = delivery_job_values(row.id, sim_sid, attempt=1, due_at=due_at, now=now)
    call.writes.insert(Job, job)
    return 201, render_sms_command(row, call.account_sid, call.urls)
