"""Network Access Profiles and their Networks over HTTP."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.network_access_profiles.wire import (
    profile_networks_path,
    render_profile,
    render_profile_network,
)
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.network_access_profiles import service

__all__ = ["ROUTES"]


@endpoint("CreateNetworkAccessProfile")
def create_network_access_profile(call: Call) -> Reply:
    profile = service.create_network_access_profile(
        call.tx,
        call.account,
        unique_name=call.params.get("UniqueName"),
        networks=call.params.get("Networks", []),
        clock=call.clock,
        sids=call.sids,
    )
    return call.created(render_profile(profile, call.account.sid, call.urls))


@endpoint("FetchNetworkAccessProfile")
def fetch_network_access_profile(call: Call) -> Reply:
    profile = service.fetch_network_access_profile(call.session, call.account, call.path["Sid"])
    return call.ok(render_profile(profile, call.account.sid, call.urls))


@endpoint("ListNetworkAccessProfile")
def list_network_access_profiles(call: Call) -> Reply:
    page = service.list_network_access_profiles(call.session, call.account, page=call.page_request)
    account_sid, urls = call.account.sid, call.urls  # read once a page, not once an item
    return call.page(
        "/v1/NetworkAccessProfiles", page, lambda p: render_profile(p, account_sid, urls)
    )


@endpoint("UpdateNetworkAccessProfile")
def update_network_access_profile(call: Call) -> Reply:
    profile = service.update_network_access_profile(
        call.session,
        call.account,
        call.path["Sid"],
        unique_name=call.params.get("UniqueName"),
        clock=call.clock,
    )
    return call.ok(render_profile(profile, call.account.sid, call.urls))


@endpoint("ListNetworkAccessProfileNetwork")
def list_profile_networks(call: Call) -> Reply:
    ref = call.path["NetworkAccessProfileSid"]
    profile, page = service.list_profile_networks(
        call.session, call.account, ref, page=call.page_request
    )
    return call.page(
        profile_networks_path(profile.sid),
        page,
        lambda n: render_profile_network(profile, n, call.urls),
    )


@endpoint("CreateNetworkAccessProfileNetwork")
def add_network(call: Call) -> Reply:
    profile, network = service.add_network(
        call.session,
        call.account,
        call.path["NetworkAccessProfileSid"],
        network_sid=call.params["Network"],
        clock=call.clock,
    )
    return call.created(render_profile_network(profile, network, call.urls))


@endpoint("FetchNetworkAccessProfileNetwork")
def fetch_profile_network(call: Call) -> Reply:
    profile, network = service.fetch_profile_network(
        call.session, call.account, call.path["NetworkAccessProfileSid"], call.path["Sid"]
    )
    return call.ok(render_profile_network(profile, network, call.urls))


@endpoint("DeleteNetworkAccessProfileNetwork")
def remove_network(call: Call) -> Reply:
    service.remove_network(
        call.session,
        call.account,
        call.path["NetworkAccessProfileSid"],
        call.path["Sid"],
        clock=call.clock,
    )
    return call.no_content()


_PROFILES = "/v1/NetworkAccessProfiles"
_PROFILE = _PROFILES + "/{Sid}"
_NETWORKS = _PROFILES + "/{NetworkAccessProfileSid}/Networks"
ROUTES = [
    Route(
        _PROFILES, list_network_access_profiles, methods=["GET"], name="ListNetworkAccessProfile"
    ),
    Route(
        _PROFILES,
        create_network_access_profile,
        methods=["POST"],
        name="CreateNetworkAccessProfile",
    ),
    Route(
        _PROFILE, fetch_network_access_profile, methods=["GET"], name="FetchNetworkAccessProfile"
    ),
    Route(
        _PROFILE, update_network_access_profile, methods=["POST"], name="UpdateNetworkAccessProfile"
    ),
    Route(
        _NETWORKS, list_profile_networks, methods=["GET"], name="ListNetworkAccessProfileNetwork"
    ),
    Route(_NETWORKS, add_network, methods=["POST"], name="CreateNetworkAccessProfileNetwork"),
    Route(
        _NETWORKS + "/{Sid}",
        fetch_profile_network,
        methods=["GET"],
        name="FetchNetworkAccessProfileNetwork",
    ),
    Route(
        _NETWORKS + "/{Sid}",
        remove_network,
        methods=["DELETE"],
        name="DeleteNetworkAccessProfileNetwork",
    ),
]
