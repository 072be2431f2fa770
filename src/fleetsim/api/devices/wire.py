"""Devices on the wire (fleetsim's device API, snake_case JSON like the rest)."""

from __future__ import annotations

import json
from typing import Any

from fleetsim.core.dates import iso, iso_or_none
from fleetsim.db.tables import ConnectionEvent, Device, DeviceMessage, Network, Sim
from fleetsim.network.devices import Rejection

__all__ = [
    "ANSWER_SCHEMAS",
    "render_device",
    "render_event",
    "render_message",
    "render_rejection",
    "render_visible_network",
]


def _field(kind: str, *, nullable: bool = False, **more: Any) -> dict[str, Any]:
    return {"type": kind, **({"nullable": True} if nullable else {}), **more}


def _ref(name: str, *, nullable: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"$ref": f"#/components/schemas/{name}"}
    return {"allOf": [ref], "nullable": True} if nullable else ref


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


_TIME: dict[str, Any] = {"format": "date-time"}
# What the device API answers, described for the OpenAPI document (and so the API
# reference); tests/api/test_openapi.py checks every answer against them.
ANSWER_SCHEMAS: dict[str, dict[str, Any]] = {
    "fleetsim.device": _object(
        sim_sid=_field("string"),
        sim_status=_field("string"),
        iccid=_field("string"),
        imei=_field("string"),
        state=_field("string", enum=["attached", "detached"]),
        network_sid=_field("string", nullable=True),
        network_friendly_name=_field("string", nullable=True),
        iso_country=_field("string", nullable=True),
        ip_address=_field("string", nullable=True),
        attached_at=_field("string", nullable=True, **_TIME),
        data_session_sid=_field("string", nullable=True),
        data_session_upload=_field("integer"),
        data_session_download=_field("integer"),
        data_blocked=_field("boolean"),
        udp=_field(
            "object",
            nullable=True,
            properties={"host": _field("string"), "port": _field("integer")},
        ),
    ),
    "fleetsim.device_binding": {
        "allOf": [
            _ref("fleetsim.device"),
            _object(
                udp_bridge=_field(
                    "object",
                    nullable=True,
                    properties={"host": _field("string"), "port": _field("integer")},
                )
            ),
        ]
    },
    "fleetsim.device_rejection": _object(
        code=_field("integer"), message=_field("string"), more_info=_field("string")
    ),
    "fleetsim.device_attach": _object(
        attached=_field("boolean"),
        rejection=_ref("fleetsim.device_rejection", nullable=True),
        device=_ref("fleetsim.device"),
    ),
    "fleetsim.device_data": _object(
        sim_sid=_field("string"),
        sim_status=_field("string"),
        upload=_field("integer"),
        download=_field("integer"),
        counted_upload=_field("integer"),
        counted_download=_field("integer"),
        windows=_field("integer"),
        ends_at=_field("string", **_TIME),
        device=_ref("fleetsim.device"),
    ),
    "fleetsim.device_message": _object(
        index=_field("integer"),
        kind=_field("string", enum=["sms", "ip"]),
        command_sid=_field("string"),
        payload=_field("string"),
        payload_type=_field("string", nullable=True),
        port=_field("integer", nullable=True),
        received_at=_field("string", **_TIME),
    ),
    "fleetsim.connection_event": _object(
        sid=_field("string"), event_type=_field("string"), data=_field("object")
    ),
}


def render_device(sim: Sim, device: Device, network: Network | None) -> dict[str, Any]:
    return {
        "sim_sid": sim.sid,
        "sim_status": sim.status,
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
        "index": message.id,
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


def render_visible_network(network: Network) -> dict[str, Any]:
    """A network the device can see, with the MCC/MNC pairs it broadcasts."""
    return {
        "sid": network.sid,
        "friendly_name": network.friendly_name,
        "iso_country": network.iso_country,
        "identifiers": [{"mcc": i.mcc, "mnc": i.mnc} for i in network.identifiers],
    }
