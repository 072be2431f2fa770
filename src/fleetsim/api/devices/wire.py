"""Devices on the wire (fleetsim's device API, snake_case JSON like the rest)."""

from __future__ import annotations

import json
from typing import Any

from fleetsim.core.dates import iso, iso_or_none
from fleetsim.db.tables import ConnectionEvent, Device, DeviceMessage, Network, Sim
from fleetsim.network.devices import Rejection

__all__ = ["render_device", "render_event", "render_message", "render_rejection"]


def render_device(sim: Sim, device: Device, network: Network | None) -> dict[str, Any]:
    return {
        "sim_sid": sim.sid,
        "iccid": sim.iccid,
        "imei": device.imei,
        "state": device.state,
        "network_sid": network.sid if network else None,
        "network_friendly_name": network.friendly_name if network else None,
        "iso_country": network.iso_country if network else None,
        "ip_address": device.ip_address,
        "attached_at": iso_or_none(device.attached_at),
        "data_session_sid": device.data_session_sid,
        "data_session_upload": device.session_upload if device.state == "attached" else 0,
        "data_session_download": device.session_download if device.state == "attached" else 0,
        "data_blocked": device.data_blocked,
        "udp": ({"host": device.udp_host, "port": device.udp_port} if device.udp_port else None),
    }


def render_rejection(rejection: Rejection | None) -> dict[str, Any] | None:
    if rejection is None:
        return None
    return {
        "code": rejection.code,
        "message": rejection.message,
        "more_info": f"https://www.twilio.com/docs/errors/{rejection.code}",
    }


def render_message(message: DeviceMessage) -> dict[str, Any]:
    return {
        "kind": message.kind,
        "command_sid": message.command_sid,
        "payload": message.payload,
        "payload_type": message.payload_type,
        "port": message.port,
        "received_at": iso(message.received_at),
    }


def render_event(event: ConnectionEvent) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event.data)
    return {"sid": event.sid, "event_type": event.event_type, "data": data}
