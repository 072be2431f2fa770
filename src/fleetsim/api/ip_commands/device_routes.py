"""The device's side of IP Commands, in the device API (the owning account's credentials).

    POST   /devices/{Sim}/udp           SourcePort=…, Payload=<Base64> or Text=<UTF-8>:
                                        the device sends a datagram to 100.64.0.1
    POST   /devices/{Sim}/udp-binding   Port=…, Host=127.0.0.1 (loopback only): the
                                        device's IP Commands become real datagrams
    DELETE /devices/{Sim}/udp-binding   back to the inbox only

A datagram the device sends answers 201 with the IP Command it became. A binding answers
the device, and `udp_bridge`: the address of this server's UDP bridge, which the bound
endpoint's datagrams come from and must be sent to (null when the server runs none).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fleetsim.api.devices.routes import device_operation
from fleetsim.api.devices.wire import render_device
from fleetsim.api.ip_commands.wire import render_ip_command
from fleetsim.contract import Param
from fleetsim.db.tables import Device, Sim
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.network import devices
from fleetsim.resources.ip_commands import service
from fleetsim.resources.ip_commands.udp import LOOPBACK, active_bridge

__all__ = ["IP_COMMAND_DEVICE_ROUTES"]

SEND = device_operation(
    "SendDeviceDatagram",
    "POST",
    "/devices/{Sim}/udp",
    Param("SourcePort", "form", True, "integer", minimum=1, maximum=65535),
    Param("Payload", "form", False, "string"),
    Param("Text", "form", False, "string"),
    answer="supersim.v1.ip_command",
)
BIND = device_operation(
    "BindDeviceUdp",
    "POST",
    "/devices/{Sim}/udp-binding",
    Param("Port", "form", True, "integer", minimum=1, maximum=65535),
    Param("Host", "form", False, "string"),
    answer="fleetsim.device_binding",
)
UNBIND = device_operation(
    "UnbindDeviceUdp", "DELETE", "/devices/{Sim}/udp-binding", answer="fleetsim.device_binding"
)


@endpoint(SEND)
def send_datagram(call: Call) -> Reply:
    """Send to the network's address (100.64.0.1); the device must be attached."""
    command = service.send_from_device(
        call.session,
        call.account,
        call.path["Sim"],
        source_port=call.params["SourcePort"],
        payload=call.params.get("Payload"),
        text=call.params.get("Text"),
        now=call.clock.now(),
        sids=call.sids,
    )
    return call.created(render_ip_command(command, call.account.sid, call.urls))


@endpoint(BIND)
def bind_udp(call: Call) -> Reply:
    bridge = active_bridge()
    sim, device = service.bind_udp(
        call.session,
        call.account,
        call.path["Sim"],
        host=call.params.get("Host") or LOOPBACK,
        port=call.params["Port"],
        reserved=bridge.address if bridge else None,
    )
    return call.ok(_binding(call, sim, device))


@endpoint(UNBIND)
def unbind_udp(call: Call) -> Reply:
    sim, device = service.unbind_udp(call.session, call.account, call.path["Sim"])
    return call.ok(_binding(call, sim, device))


def _binding(call: Call, sim: Sim, device: Device) -> dict[str, Any]:
    bridge = active_bridge()
    address = bridge.address if bridge else None
    return {
        **render_device(sim, device, devices.network_of(call.session, device)),
        "udp_bridge": {"host": address[0], "port": address[1]} if address else None,
    }


IP_COMMAND_DEVICE_ROUTES = [
    Route(SEND.path, send_datagram, methods=["POST"], name=SEND.id),
    Route(BIND.path, bind_udp, methods=["POST"], name=BIND.id),
    Route(UNBIND.path, unbind_udp, methods=["DELETE"], name=UNBIND.id),
]
