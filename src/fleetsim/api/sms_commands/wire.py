"""SMS Commands on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetsim.core.dates import iso
from fleetsim.db.tables import SmsCommand
from fleetsim.http.urls import Urls
from fleetsim.resources.sms_commands.service import NewSmsCommand

__all__ = ["new_sms_command", "render_sms_command", "sms_command_path"]


def sms_command_path(sid: str) -> str:
    return f"/v1/SmsCommands/{sid}"


def new_sms_command(params: Mapping[str, Any]) -> NewSmsCommand:
    return NewSmsCommand(
        sim=params["Sim"],
        payload=params["Payload"],
        callback_url=params.get("CallbackUrl"),
        callback_method=params.get("CallbackMethod"),
    )


def render_sms_command(command: SmsCommand, account_sid: str, urls: Urls) -> dict[str, Any]:
    return {
        "sid": command.sid,
        "account_sid": account_sid,
        "sim_sid": command.sim.sid,
        "payload": command.payload,
        "status": command.status,
        "direction": command.direction,
        "date_created": iso(command.date_created),
        "date_updated": iso(command.date_updated),
        "url": urls.absolute(sms_command_path(command.sid)),
    }
