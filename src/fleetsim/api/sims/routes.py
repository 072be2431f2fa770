"""Sims over HTTP."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.sims.wire import render_sim_view, sim_changes, sim_path
from fleetsim.billing.periods import latest_period
from fleetsim.core.dates import iso
from fleetsim.core.errors import SimRegistrationParameterMissing
from fleetsim.core.paging import Cursor
from fleetsim.db.paging import Page
from fleetsim.db.tables import BillingPeriod
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.sims import service

__all__ = ["ROUTES"]


@endpoint("CreateSim", on_missing=SimRegistrationParameterMissing)
def register_sim(call: Call) -> Reply:
    sim = service.register_sim(
        call.tx,
        call.account,
        iccid=call.params["Iccid"],
        registration_code=call.params["RegistrationCode"],
        clock=call.clock,
        sids=call.sids,
    )
    return call.created(render_sim_view(sim, call.account.sid, call.urls))


@endpoint("FetchSim")
def fetch_sim(call: Call) -> Reply:
    sim = service.fetch_sim(call.tx, call.account, call.path["Sid"])
    return call.ok(render_sim_view(sim, call.account.sid, call.urls))


@endpoint("ListSim")
def list_sims(call: Call) -> Reply:
    page = service.list_sims(
        call.tx,
        call.account,
        status=call.params.get("Status"),
        fleet=call.params.get("Fleet"),
        iccid=call.params.get("Iccid"),
        page=call.page_request,
    )
    account_sid, urls = call.account.sid, call.urls  # read once a page, not once a Sim
    return call.page("/v1/Sims", page, lambda sim: render_sim_view(sim, account_sid, urls))


@endpoint("UpdateSim")
def update_sim(call: Call) -> Reply:
    update = service.update_sim(
        call.tx,
        call.account,
        call.path["Sid"],
        changes=sim_changes(call.params),
        clock=call.clock,
    )
    body = render_sim_view(update.sim, update.owner_sid, call.urls)
    return call.ok(body, status=202 if update.scheduled else 200)


@endpoint("ListBillingPeriod")
def list_billing_periods(call: Call) -> Reply:
    """Only the current or most recent period, as Twilio lists it; a `new` Sim has none."""
    sim = service.fetch_sim(call.tx, call.account, call.path["SimSid"])
    period = latest_period(call.session, sim.id)
    rows = [] if period is None else [_render_period(period, call.account.sid, sim.sid)]
    return call.page(f"{sim_path(sim.sid)}/BillingPeriods", _single_page(call, rows), dict)


def _render_period(period: BillingPeriod, account_sid: str, sim_sid: str) -> dict[str, object]:
    return {
        "sid": period.sid,
        "account_sid": account_sid,
        "sim_sid": sim_sid,
        "period_type": period.period_type,
        "start_time": iso(period.start_time),
        "end_time": iso(period.end_time),
        "date_created": iso(period.date_created),
        "date_updated": iso(period.date_updated),
    }


@endpoint("ListSimIpAddress")
def list_ip_addresses(call: Call) -> Reply:
    """A Sim has an address only while its device is attached to a network."""
    sim = service.load_sim(call.session, call.account, call.path["SimSid"])
    addresses: list[dict[str, object]] = [
        {"ip_address": address, "ip_address_version": "IPv4"}
        for address in service.ip_addresses(call.session, sim)
    ]
    return call.page(f"{sim_path(sim.sid)}/IpAddresses", _single_page(call, addresses), dict)


def _single_page(call: Call, rows: list[dict[str, object]]) -> Page[dict[str, object]]:
    """A page holding a few rows at most; a PageToken is still checked, as on every list
    (21481 if forged), and a token that points past the rows gives an empty page."""
    token = call.page_request.token
    if token:
        Cursor.decode(token, (int,))
        return Page([], None, None)
    return Page(rows, None, None)


ROUTES = [
    Route("/v1/Sims", list_sims, methods=["GET"], name="ListSim"),
    Route("/v1/Sims", register_sim, methods=["POST"], name="CreateSim"),
    Route("/v1/Sims/{Sid}", fetch_sim, methods=["GET"], name="FetchSim"),
    Route("/v1/Sims/{Sid}", update_sim, methods=["POST"], name="UpdateSim"),
    Route(
        "/v1/Sims/{SimSid}/BillingPeriods",
        list_billing_periods,
        methods=["GET"],
        name="ListBillingPeriod",
    ),
    Route(
        "/v1/Sims/{SimSid}/IpAddresses", list_ip_addresses, methods=["GET"], name="ListSimIpAddress"
    ),
]
