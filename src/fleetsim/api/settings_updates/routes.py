"""Settings Updates over HTTP (list only, as in Twilio's API)."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.settings_updates.wire import render_settings_update
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.settings_updates import service

__all__ = ["ROUTES"]


@endpoint("ListSettingsUpdate")
def list_settings_updates(call: Call) -> Reply:
    page = service.list_settings_updates(
        call.session,
        call.account,
        sim=call.params.get("Sim"),
        status=call.params.get("Status"),
        page=call.page_request,
    )
    return call.page("/v1/SettingsUpdates", page, render_settings_update)


ROUTES = [
    Route("/v1/SettingsUpdates", list_settings_updates, methods=["GET"], name="ListSettingsUpdate"),
]
