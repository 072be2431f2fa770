"""Sims: the searchable list, registering a card, a Sim's page and its actions.

GET  /console/sims                        search (q), filter (status, fleet), newest first
POST /console/sims                        register a card (ICCID and registration code)
GET  /console/sims/{Sim}                  status history, Fleet, billing period, data used
                                          against the limit, IP addresses, commands
POST /console/sims/{Sim}/status           activate, deactivate (as UpdateSim's Status)
POST /console/sims/{Sim}/fleet            move to a Fleet (as UpdateSim's Fleet)
POST /console/sims/{Sim}/sms-commands     send an SMS Command
POST /console/sims/{Sim}/ip-commands      send an IP Command
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.routing import Route

from fleetsim.billing.periods import current_period, latest_period, limit_bytes
from fleetsim.console.base import Html, Redirect, Visit, action, page
from fleetsim.core.errors import InvalidParameter
from fleetsim.core.paging import PageRequest
from fleetsim.db.store import Tx
from fleetsim.resources.bulk_operations.service import ACTIONS
from fleetsim.resources.fleets.service import list_fleets
from fleetsim.resources.ip_commands.service import NewIpCommand, create_ip_command, list_ip_commands
from fleetsim.resources.sims.search import search_sims, status_history
from fleetsim.resources.sims.service import (
    SimChanges,
    ip_addresses,
    load_sim,
    register_sim,
    update_sim,
)
from fleetsim.resources.sms_commands.service import (
    NewSmsCommand,
    create_sms_command,
    list_sms_commands,
)

__all__ = ["SIM_ROUTES"]

STATUSES = ("new", "ready", "active", "inactive", "scheduled")
RECENT = PageRequest(page_size=10)


def _fleets(visit: Visit) -> list[object]:
    return list(
        list_fleets(
            visit.session, visit.account, network_access_profile=None, page=PageRequest(1000)
        ).items
    )


@page
def sims(visit: Visit) -> Html:
    text, status, fleet = visit.arg("q"), visit.arg("status"), visit.arg("fleet")
    found = search_sims(
        visit.session,
        visit.account,
        text=text,
        status=status,
        fleet=fleet,
        page=visit.page_request(),
    )
    filters = urlencode(
        [(k, v) for k, v in (("q", text), ("status", status), ("fleet", fleet)) if v]
    )
    return visit.html(
        "sims.html",
        sims=found,
        q=text or "",
        status=status or "",
        fleet=fleet or "",
        base="/console/sims" + (f"?{filters}" if filters else ""),
        statuses=STATUSES,
        fleets=_fleets(visit),
        actions=ACTIONS,
    )


@action
def register(visit: Visit) -> Redirect:
    sim = register_sim(
        Tx.of(visit.session),
        visit.account,
        iccid=visit.arg("iccid") or "",
        registration_code=visit.arg("registration_code") or "",
        clock=visit.clock,
        sids=visit.sids,
    )
    return Redirect(f"/console/sims/{sim.sid}")


@page
def sim(visit: Visit) -> Html:
    found = load_sim(visit.session, visit.account, visit.path["sid"])
    now = visit.clock.now()
    period = current_period(visit.session, found.id, now) or latest_period(visit.session, found.id)
    sms = list_sms_commands(
        visit.session, visit.account, sim=found.sid, status=None, direction=None, page=RECENT
    )
    ip = list_ip_commands(
        visit.session,
        visit.account,
        sim=found.sid,
        sim_iccid=None,
        status=None,
        direction=None,
        page=RECENT,
    )
    return visit.html(
        "sim.html",
        sim=found,
        history=status_history(visit.session, found),
        period=period,
        limit=limit_bytes(found.fleet) if found.fleet else None,
        addresses=ip_addresses(visit.session, found),
        sms_commands=sms.items,
        ip_commands=ip.items,
        fleets=_fleets(visit),
    )


@action
def change_status(visit: Visit) -> Redirect:
    status = visit.arg("status")
    if status not in ("active", "inactive", "ready"):
        raise InvalidParameter("Status", "must be active, inactive or ready")
    found = update_sim(
        Tx.of(visit.session),
        visit.account,
        visit.path["sid"],
        changes=SimChanges(status=status),
        clock=visit.clock,
    )
    return Redirect(f"/console/sims/{found.sim.sid}")


@action
def move(visit: Visit) -> Redirect:
    found = update_sim(
        Tx.of(visit.session),
        visit.account,
        visit.path["sid"],
        changes=SimChanges(fleet=visit.arg("fleet") or ""),
        clock=visit.clock,
    )
    return Redirect(f"/console/sims/{found.sim.sid}")


@action
def send_sms(visit: Visit) -> Redirect:
    sim_sid = load_sim(visit.session, visit.account, visit.path["sid"]).sid
    create_sms_command(
        Tx.of(visit.session),
        visit.account,
        command=NewSmsCommand(sim=sim_sid, payload=visit.arg("payload") or ""),
        now=visit.clock.now(),
        sids=visit.sids,
    )
    return Redirect(f"/console/sims/{sim_sid}#commands")


@action
def send_ip_command(visit: Visit) -> Redirect:
    sim_sid = load_sim(visit.session, visit.account, visit.path["sid"]).sid
    create_ip_command(
        Tx.of(visit.session),
        visit.account,
        command=NewIpCommand(
            sim=sim_sid,
            payload=visit.arg("payload") or "",
            device_port=visit.whole("device_port", "DevicePort") or 0,
            payload_type=visit.arg("payload_type") or "text",
        ),
        now=visit.clock.now(),
        sids=visit.sids,
    )
    return Redirect(f"/console/sims/{sim_sid}#commands")


SIM_ROUTES = [
    Route("/console/sims", sims, methods=["GET"], name="console_sims"),
    Route("/console/sims", register, methods=["POST"], name="console_register_sim"),
    Route("/console/sims/{sid}", sim, methods=["GET"], name="console_sim"),
    Route("/console/sims/{sid}/status", change_status, methods=["POST"], name="console_sim_status"),
    Route("/console/sims/{sid}/fleet", move, methods=["POST"], name="console_sim_fleet"),
    Route("/console/sims/{sid}/sms-commands", send_sms, methods=["POST"], name="console_sim_sms"),
    Route(
        "/console/sims/{sid}/ip-commands", send_ip_command, methods=["POST"], name="console_sim_ip"
    ),
]
