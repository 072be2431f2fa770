"""SMS Commands over HTTP."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.sms_commands.wire import new_sms_command, render_sms_command
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.sms_commands import service

__all__ = ["ROUTES"]


@endpoint("CreateSmsCommand")
def create_sms_command(call: Call) -> Reply:
    command = service.create_sms_command(
        call.tx,
        call.account,
        command=new_sms_command(call.params),
        now=call.clock.now(),
        sids=call.sids,
    )
    return call.created(render_sms_command(command, call.account.sid, call.urls))


@endpoint("FetchSmsCommand")
def fetch_sms_command(call: Call) -> Reply:
    command = service.fetch_sms_command(call.session, call.account, call.path["Sid"])
    return call.ok(render_sms_command(command, call.account.sid, call.urls))


@endpoint("ListSmsCommand")
def list_sms_commands(call: Call) -> Reply:
    page = service.list_sms_commands(
        call.session,
        call.account,
        sim=call.params.get("Sim"),
        status=call.params.get("Status"),
        direction=call.params.get("Direction"),
        page=call.page_request,
    )
    account_sid, urls = call.account.sid, call.urls  # read once a page, not once an item
    return call.page("/v1/SmsCommands", page, lambda c: render_sms_command(c, account_sid, urls))


ROUTES = [
    Route("/v1/SmsCommands", list_sms_commands, methods=["GET"], name="ListSmsCommand"),
    Route("/v1/SmsCommands", create_sms_command, methods=["POST"], name="CreateSmsCommand"),
    Route("/v1/SmsCommands/{Sid}", fetch_sms_command, methods=["GET"], name="FetchSmsCommand"),
]
