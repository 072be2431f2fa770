"""eSIM Profiles over HTTP."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.esim_profiles.wire import new_esim_profile, render_esim_profile
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.esim_profiles import service

__all__ = ["ROUTES"]


@endpoint("CreateEsimProfile")
def create_esim_profile(call: Call) -> Reply:
    profile = service.create_esim_profile(
        call.session,
        call.account,
        profile=new_esim_profile(call.params),
        now=call.clock.now(),
        sids=call.sids,
    )
    return call.created(render_esim_profile(profile, call.account.sid, call.urls))


@endpoint("FetchEsimProfile")
def fetch_esim_profile(call: Call) -> Reply:
    profile = service.fetch_esim_profile(call.session, call.account, call.path["Sid"])
    return call.ok(render_esim_profile(profile, call.account.sid, call.urls))


@endpoint("ListEsimProfile")
def list_esim_profiles(call: Call) -> Reply:
    page = service.list_esim_profiles(
        call.session,
        call.account,
        eid=call.params.get("Eid"),
        sim_sid=call.params.get("SimSid"),
        status=call.params.get("Status"),
        page=call.page_request,
    )
    account_sid, urls = call.account.sid, call.urls  # read once a page, not once an item
    return call.page("/v1/ESimProfiles", page, lambda p: render_esim_profile(p, account_sid, urls))


ROUTES = [
    Route("/v1/ESimProfiles", list_esim_profiles, methods=["GET"], name="ListEsimProfile"),
    Route("/v1/ESimProfiles", create_esim_profile, methods=["POST"], name="CreateEsimProfile"),
    Route("/v1/ESimProfiles/{Sid}", fetch_esim_profile, methods=["GET"], name="FetchEsimProfile"),
]
