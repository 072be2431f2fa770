"""The device API: make a Sim's simulated device act, with the owning account's
credentials. Form parameters in PascalCase, JSON out, errors as everywhere else.

    GET  /devices/{Sim}            the device: state, network, address, data session
    POST /devices/{Sim}/attach     Network=HW… (or Mcc=…&Mnc=…)
    POST /devices/{Sim}/detach
    GET  /devices/{Sim}/inbox      SMS and IP Commands received, oldest first (paged);
                                   After=<index>: only those after that message
    DELETE /devices/{Sim}/inbox/{Index}  the device deletes a message (a modem's AT+CMGD)
    GET  /devices/{Sim}/networks   the networks the device can register on (its Fleet's
                                   Network Access Profile), with their MCC/MNC pairs
    GET  /devices/{Sim}/events     the Sim's connection events, oldest first (paged)
"""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.devices.wire import (
    render_device,
    render_event,
    render_message,
    render_rejection,
    render_visible_network,
)
from fleetsim.contract import Operation, Param
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.network import devices
from fleetsim.network.events import list_events

__all__ = ["DEVICE_ROUTES", "device_operation", "paging_params"]

SIM = Param("Sim", "path", True, "string")


def paging_params() -> dict[str, Param]:
    return {
        "PageSize": Param("PageSize", "query", False, "integer", minimum=1, maximum=1000),
        "Page": Param("Page", "query", False, "integer", minimum=0),
        "PageToken": Param("PageToken", "query", False, "string"),
    }


def device_operation(
    name: str,
    method: str,
    path: str,
    *params: Param,
    list_key: str | None = None,
    answer: str | None = None,
) -> Operation:
    """One of fleetsim's own device operations, described like the contract's; `answer`
    names the schema of what it answers (of one item, for a list)."""
    all_params = {"Sim": SIM, **{p.name: p for p in params}}
    if list_key:
        all_params.update(paging_params())
    return Operation(name, method, path, all_params, (200,), answer, list_key)


FETCH = device_operation("FetchDevice", "GET", "/devices/{Sim}", answer="fleetsim.device")
ATTACH = device_operation(
    "AttachDevice",
    "POST",
    "/devices/{Sim}/attach",
    Param("Network", "form", False, "string"),
    Param("Mcc", "form", False, "string"),
    Param("Mnc", "form", False, "string"),
    answer="fleetsim.device_attach",
)
DETACH = device_operation("DetachDevice", "POST", "/devices/{Sim}/detach", answer="fleetsim.device")
INBOX = device_operation(
    "ListDeviceMessages",
    "GET",
    "/devices/{Sim}/inbox",
    Param("After", "query", False, "integer", minimum=0),
    list_key="messages",
    answer="fleetsim.device_message",
)
DELETE_MESSAGE = device_operation(
    "DeleteDeviceMessage",
    "DELETE",
    "/devices/{Sim}/inbox/{Index}",
    Param("Index", "path", True, "string"),
)
NETWORKS = device_operation("ListDeviceNetworks", "GET", "/devices/{Sim}/networks")
EVENTS = device_operation(
    "ListConnectionEvents",
    "GET",
    "/devices/{Sim}/events",
    list_key="connection_events",
    answer="fleetsim.connection_event",
)


@endpoint(FETCH)
def fetch_device(call: Call) -> Reply:
    sim, device = devices.device_of(call.session, call.account, call.path["Sim"])
    network = devices.network_of(call.session, device)
    return call.ok(render_device(sim, device, network))


@endpoint(ATTACH)
def attach_device(call: Call) -> Reply:
    result = devices.attach(
        call.session,
        call.account,
        call.path["Sim"],
        network_sid=call.params.get("Network"),
        mcc=call.params.get("Mcc"),
        mnc=call.params.get("Mnc"),
        now=call.clock.now(),
        sids=call.sids,
    )
    network = devices.network_of(call.session, result.device)
    return call.ok(
        {
            "attached": result.rejection is None,
            "rejection": render_rejection(result.rejection),
            "device": render_device(result.sim, result.device, network),
        }
    )


@endpoint(DETACH)
def detach_device(call: Call) -> Reply:
    sim, device = devices.detach(
        call.session, call.account, call.path["Sim"], now=call.clock.now(), sids=call.sids
    )
    return call.ok(render_device(sim, device, None))


@endpoint(INBOX)
def list_inbox(call: Call) -> Reply:
    sim, page = devices.list_messages(
        call.session,
        call.account,
        call.path["Sim"],
        page=call.page_request,
        after=call.params.get("After"),
    )
    return call.page(f"/devices/{sim.sid}/inbox", page, render_message)


@endpoint(DELETE_MESSAGE)
def delete_message(call: Call) -> Reply:
    devices.delete_message(call.session, call.account, call.path["Sim"], call.path["Index"])
    return call.no_content()


@endpoint(NETWORKS)
def list_device_networks(call: Call) -> Reply:
    networks = devices.visible_networks(call.session, call.account, call.path["Sim"])
    return call.ok({"networks": [render_visible_network(n) for n in networks]})


@endpoint(EVENTS)
def list_connection_events(call: Call) -> Reply:
    sim, _ = devices.device_of(call.session, call.account, call.path["Sim"])
    page = list_events(call.session, sim, page=call.page_request)
    return call.page(f"/devices/{sim.sid}/events", page, render_event)


DEVICE_ROUTES = [
    Route(FETCH.path, fetch_device, methods=["GET"], name=FETCH.id),
    Route(ATTACH.path, attach_device, methods=["POST"], name=ATTACH.id),
    Route(DETACH.path, detach_device, methods=["POST"], name=DETACH.id),
    Route(INBOX.path, list_inbox, methods=["GET"], name=INBOX.id),
    Route(DELETE_MESSAGE.path, delete_message, methods=["DELETE"], name=DELETE_MESSAGE.id),
    Route(NETWORKS.path, list_device_networks, methods=["GET"], name=NETWORKS.id),
    Route(EVENTS.path, list_connection_events, methods=["GET"], name=EVENTS.id),
]
