"""Fleets: list, create, edit the mutable fields, the Sims in one, delete an empty one.

GET  /console/fleets                 list and the create form
POST /console/fleets                 create
GET  /console/fleets/{Fleet}         the Fleet, its Sims and the edit form
POST /console/fleets/{Fleet}         edit
POST /console/fleets/{Fleet}/delete  delete (only with no Sim assigned)
"""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.console.base import Html, Redirect, Visit, action, page
from fleetsim.core.errors import InvalidParameter
from fleetsim.core.paging import PageRequest
from fleetsim.db.store import Tx
from fleetsim.resources.fleets.service import (
    DEFAULT_DATA_LIMIT,
    FleetChanges,
    NewFleet,
    create_fleet,
    delete_fleet,
    fetch_fleet,
    list_fleets,
    update_fleet,
)
from fleetsim.resources.network_access_profiles.service import list_network_access_profiles
from fleetsim.resources.sims.search import search_sims

__all__ = ["FLEET_ROUTES"]

METHODS = ("POST", "GET")


def _profiles(visit: Visit) -> list[object]:
    return list(
        list_network_access_profiles(
            visit.session, visit.account, page=PageRequest(page_size=1000)
        ).items
    )


@page
def fleets(visit: Visit) -> Html:
    found = list_fleets(
        visit.session, visit.account, network_access_profile=None, page=visit.page_request()
    )
    return visit.html(
        "fleets.html",
        fleets=found,
        profiles=_profiles(visit),
        default_limit=DEFAULT_DATA_LIMIT,
        methods=METHODS,
    )


def _method(visit: Visit, name: str) -> str | None:
    value = visit.arg(name)
    if value is not None and value.upper() not in METHODS:
        raise InvalidParameter(name, "must be POST or GET")
    return value.upper() if value else None


@action
def create(visit: Visit) -> Redirect:
    fleet = create_fleet(
        Tx.of(visit.session),
        visit.account,
        fleet=NewFleet(
            network_access_profile=visit.arg("network_access_profile") or "",
            unique_name=visit.arg("unique_name"),
            data_enabled=visit.flag("data_enabled"),
            data_limit=visit.whole("data_limit", "DataLimit") or DEFAULT_DATA_LIMIT,
            sms_commands_enabled=visit.flag("sms_commands_enabled"),
            sms_commands_url=visit.arg("sms_commands_url"),
            sms_commands_method=_method(visit, "sms_commands_method") or "POST",
            ip_commands_url=visit.arg("ip_commands_url"),
            ip_commands_method=_method(visit, "ip_commands_method") or "POST",
        ),
        clock=visit.clock,
        sids=visit.sids,
    )
    return Redirect(f"/console/fleets/{fleet.sid}")


@page
def fleet(visit: Visit) -> Html:
    found = fetch_fleet(visit.session, visit.account, visit.path["sid"])
    sims = search_sims(
        visit.session,
        visit.account,
        text=None,
        status=None,
        fleet=found.sid,
        page=visit.page_request(),
    )
    return visit.html(
        "fleet.html", fleet=found, sims=sims, profiles=_profiles(visit), methods=METHODS
    )


@action
def edit(visit: Visit) -> Redirect:
    found = update_fleet(
        Tx.of(visit.session),
        visit.account,
        visit.path["sid"],
        changes=FleetChanges(
            # A blank name clears it, as UniqueName="" does in the API.
            unique_name=visit.arg("unique_name") or "",
            network_access_profile=visit.arg("network_access_profile"),
            data_limit=visit.whole("data_limit", "DataLimit"),
            sms_commands_url=visit.arg("sms_commands_url") or "",
            sms_commands_method=_method(visit, "sms_commands_method"),
            ip_commands_url=visit.arg("ip_commands_url") or "",
            ip_commands_method=_method(visit, "ip_commands_method"),
        ),
        clock=visit.clock,
    )
    return Redirect(f"/console/fleets/{found.sid}")


@action
def delete(visit: Visit) -> Redirect:
    delete_fleet(visit.session, visit.account, visit.path["sid"])
    return Redirect("/console/fleets")


FLEET_ROUTES = [
    Route("/console/fleets", fleets, methods=["GET"], name="console_fleets"),
    Route("/console/fleets", create, methods=["POST"], name="console_create_fleet"),
    Route("/console/fleets/{sid}", fleet, methods=["GET"], name="console_fleet"),
    Route("/console/fleets/{sid}", edit, methods=["POST"], name="console_edit_fleet"),
    Route("/console/fleets/{sid}/delete", delete, methods=["POST"], name="console_delete_fleet"),
]
