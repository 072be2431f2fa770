"""IP Commands over HTTP."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.ip_commands.wire import IP_COMMANDS_PATH, new_ip_command, render_ip_command
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.ip_commands import service

__all__ = ["ROUTES"]


@endpoint("CreateIpCommand")
def create_ip_command(call: Call) -> Reply:
    command = service.create_ip_command(
        call.tx,
        call.account,
        command=new_ip_command(call.params),
        now=call.clock.now(),
        sids=call.sids,
    )
    return call.created(render_ip_command(command, call.account.sid, call.urls))


@endpoint("FetchIpCommand")
def fetch_ip_command(call: Call) -> Reply:
    command = service.fetch_ip_command(call.session, call.account, call.path["Sid"])
    return call.ok(render_ip_command(command, call.account.sid, call.urls))


@endpoint("ListIpCommand")
def list_ip_commands(call: Call) -> Reply:
    """Newest first (Deviation: Twilio's order is undocumented)."""
    page = service.list_ip_commands(
        call.session,
        call.account,
        sim=call.params.get("Sim"),
        sim_iccid=call.params.get("SimIccid"),
        status=call.params.get("Status"),
        direction=call.params.get("Direction"),
        page=call.page_request,
    )
    account_sid, urls = call.account.sid, call.urls  # read once a page, not once an item
    return call.page(IP_COMMANDS_PATH, page, lambda c: render_ip_command(c, account_sid, urls))


ROUTES = [
    Route(IP_COMMANDS_PATH, list_ip_commands, methods=["GET"], name="ListIpCommand"),
    Route(IP_COMMANDS_PATH, create_ip_command, methods=["POST"], name="CreateIpCommand"),
    Route(f"{IP_COMMANDS_PATH}/{{Sid}}", fetch_ip_command, methods=["GET"], name="FetchIpCommand"),
]
