"""Fleets over HTTP."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.fleets.wire import fleet_changes, new_fleet, render_fleet
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.fleets import service

__all__ = ["ROUTES"]


@endpoint("CreateFleet")
def create_fleet(call: Call) -> Reply:
    fleet = service.create_fleet(
        call.tx, call.account, fleet=new_fleet(call.params), clock=call.clock, sids=call.sids
    )
    return call.created(render_fleet(fleet, call.account.sid, call.urls))


@endpoint("FetchFleet")
def fetch_fleet(call: Call) -> Reply:
    fleet = service.fetch_fleet(call.session, call.account, call.path["Sid"])
    return call.ok(render_fleet(fleet, call.account.sid, call.urls))


@endpoint("ListFleet")
def list_fleets(call: Call) -> Reply:
    page = service.list_fleets(
        call.session,
        call.account,
        network_access_profile=call.params.get("NetworkAccessProfile"),
        page=call.page_request,
    )
    account_sid, urls = call.account.sid, call.urls  # read once a page, not once an item
    return call.page("/v1/Fleets", page, lambda f: render_fleet(f, account_sid, urls))


@endpoint("UpdateFleet")
def update_fleet(call: Call) -> Reply:
    fleet = service.update_fleet(
        call.tx,
        call.account,
        call.path["Sid"],
        changes=fleet_changes(call.params, call.form),
        clock=call.clock,
    )
    return call.ok(render_fleet(fleet, call.account.sid, call.urls))


ROUTES = [
    Route("/v1/Fleets", list_fleets, methods=["GET"], name="ListFleet"),
    Route("/v1/Fleets", create_fleet, methods=["POST"], name="CreateFleet"),
    Route("/v1/Fleets/{Sid}", fetch_fleet, methods=["GET"], name="FetchFleet"),
    Route("/v1/Fleets/{Sid}", update_fleet, methods=["POST"], name="UpdateFleet"),
]
