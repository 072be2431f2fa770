"""IP Commands on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetsim.core.dates import iso
from fleetsim.db.tables import IpCommand
from fleetsim.http.urls import Urls
from fleetsim.resources.ip_commands.service import NewIpCommand

__all__ = ["IP_COMMANDS_PATH", "new_ip_command", "render_ip_command"]

IP_COMMANDS_PATH = "/v1/IpCommands"


def new_ip_command(params: Mapping[str, Any]) -> NewIpCommand:
    return NewIpCommand(
        sim=params["Sim"],
        payload=params["Payload"],
        device_port=params["DevicePort"],
        payload_type=params.get("PayloadType") or "text",
        callback_url=params.get("CallbackUrl") or None,
        callback_method=params.get("CallbackMethod") or "POST",
    )


def render_ip_command(command: IpCommand, account_sid: str, urls: Urls) -> dict[str, Any]:
    return {
        "sid": command.sid,
        "account_sid": account_sid,
        "sim_sid": command.sim.sid,
        "sim_iccid": command.sim_iccid,
        "status": command.status,
        "direction": command.direction,
        "device_ip": command.device_ip,
        "device_port": command.device_port,
        "payload_type": command.payload_type,
        "payload": command.payload,
        "date_created": iso(command.date_created),
        "date_updated": iso(command.date_updated),
        "url": urls.absolute(f"{IP_COMMANDS_PATH}/{command.sid}"),
    }
