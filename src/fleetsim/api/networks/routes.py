"""Networks over HTTP."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.networks.wire import render_network
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.network import networks

__all__ = ["ROUTES"]


@endpoint("ListNetwork")
def list_networks(call: Call) -> Reply:
    page = networks.list_networks(
        call.session,
        iso_country=call.params.get("IsoCountry"),
        mcc=call.params.get("Mcc"),
        mnc=call.params.get("Mnc"),
        page=call.page_request,
    )
    return call.page("/v1/Networks", page, lambda n: render_network(n, call.urls))


@endpoint("FetchNetwork")
def fetch_network(call: Call) -> Reply:
    network = networks.fetch_network(call.session, call.path["Sid"])
    return call.ok(render_network(network, call.urls))


ROUTES = [
    Route("/v1/Networks", list_networks, methods=["GET"], name="ListNetwork"),
    Route("/v1/Networks/{Sid}", fetch_network, methods=["GET"], name="FetchNetwork"),
]
