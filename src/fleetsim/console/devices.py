"""A Sim's simulated device: attach, detach, use data, send SMS or UDP, see what arrived.

    GET  /console/sims/{Sim}/device          the device, its inbox and connection events
    GET  /console/sims/{Sim}/device/live     the same, without the forms (polled)
    POST /console/sims/{Sim}/device/attach   Network
    POST /console/sims/{Sim}/device/detach
    POST /console/sims/{Sim}/device/data     upload, download bytes, over seconds
    POST /console/sims/{Sim}/device/sms      body (sent to 000)
    POST /console/sims/{Sim}/device/udp      source_port, text

The same network services as the device API (`/devices/{Sim}/...`) do the work.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.routing import Route

from fleetsim.console.base import Html, Visit, action, page
from fleetsim.core.paging import PageRequest
from fleetsim.network import devices
from fleetsim.network.events import list_events
from fleetsim.network.usage import use_data
from fleetsim.resources.fleets.service import fetch_fleet
from fleetsim.resources.ip_commands.service import send_from_device
from fleetsim.resources.network_access_profiles.service import list_profile_networks
from fleetsim.resources.sms_commands.service import receive_sms_command

__all__ = ["DEVICE_ROUTES"]

SHOWN = PageRequest(page_size=200)


def _context(visit: Visit, result: str | None = None, failed: bool = False) -> dict[str, Any]:
    sim, device = devices.device_of(visit.session, visit.account, visit.path["sid"])
    inbox = devices.list_messages(visit.session, visit.account, sim.sid, page=SHOWN)[1]
    events = list_events(visit.session, sim, page=SHOWN).items[-12:]
    networks: list[Any] = []
    if sim.fleet is not None:
        # The networks the device may attach to: its Fleet's profile's.
        profile = fetch_fleet(visit.session, visit.account, sim.fleet.sid).network_access_profile
        networks = list(
            list_profile_networks(visit.session, visit.account, profile.sid, page=SHOWN)[1].items
        )
    return {
        "sim": sim,
        "device": device,
        "network": devices.network_of(visit.session, device),
        "inbox": inbox.items,
        "events": [(e, json.loads(e.data)) for e in reversed(events)],
        "networks": networks,
        "result": result,
        "failed": failed,
    }


@page
def device(visit: Visit) -> Html:
    return visit.html("device.html", **_context(visit))


@page
def live(visit: Visit) -> Html:
    return visit.html("device_live.html", **_context(visit))


@action
def attach(visit: Visit) -> Html:
    outcome = devices.attach(
        visit.session,
        visit.account,
        visit.path["sid"],
        network_sid=visit.arg("network"),
        mcc=None,
        mnc=None,
        now=visit.clock.now(),
        sids=visit.sids,
    )
    if outcome.rejection is not None:
        rejection = outcome.rejection
        result = f"Attach rejected ({rejection.code}): {rejection.message}"
        return visit.html("device.html", **_context(visit, result, failed=True))
    return visit.html("device.html", **_context(visit, f"Attached: {outcome.device.ip_address}"))


@action
def detach(visit: Visit) -> Html:
    devices.detach(
        visit.session, visit.account, visit.path["sid"], now=visit.clock.now(), sids=visit.sids
    )
    return visit.html("device.html", **_context(visit, "Detached."))


@action
def data(visit: Visit) -> Html:
    use = use_data(
        visit.session,
        visit.account,
        visit.path["sid"],
        upload=visit.whole("upload", "Upload") or 0,
        download=visit.whole("download", "Download") or 0,
        over_seconds=visit.whole("over", "Over") or 0,
        now=visit.clock.now(),
        sids=visit.sids,
    )
    if use.windows > 1 or use.upload + use.download == 0:
        result = f"Data use spread until {use.ends_at:%Y-%m-%dT%H:%M:%SZ} ({use.windows} windows)."
    else:
        result = f"Used {use.upload:,} bytes up and {use.download:,} bytes down."
    return visit.html("device.html", **_context(visit, result))


@action
def sms(visit: Visit) -> Html:
    command = receive_sms_command(
        visit.session,
        visit.account,
        visit.path["sid"],
        to="000",
        body=visit.arg("body") or "",
        now=visit.clock.now(),
        sids=visit.sids,
    )
    return visit.html("device.html", **_context(visit, f"Sent SMS Command {command.sid}."))


@action
def udp(visit: Visit) -> Html:
    command = send_from_device(
        visit.session,
        visit.account,
        visit.path["sid"],
        source_port=visit.whole("source_port", "SourcePort") or 0,
        payload=None,
        text=visit.arg("text") or "",
        now=visit.clock.now(),
        sids=visit.sids,
    )
    return visit.html("device.html", **_context(visit, f"Sent IP Command {command.sid}."))


BASE = "/console/sims/{sid}/device"
DEVICE_ROUTES = [
    Route(BASE, device, methods=["GET"], name="console_device"),
    Route(BASE + "/live", live, methods=["GET"], name="console_device_live"),
    Route(BASE + "/attach", attach, methods=["POST"], name="console_device_attach"),
    Route(BASE + "/detach", detach, methods=["POST"], name="console_device_detach"),
    Route(BASE + "/data", data, methods=["POST"], name="console_device_data"),
    Route(BASE + "/sms", sms, methods=["POST"], name="console_device_sms"),
    Route(BASE + "/udp", udp, methods=["POST"], name="console_device_udp"),
]
