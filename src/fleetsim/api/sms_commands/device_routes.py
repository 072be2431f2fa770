"""The device side of SMS Commands, on fleetsim's device API:

    POST /devices/{Sim}/sms        To=000&Body=…: the device sends an SMS Command

The device must be attached; 000 is the only number it can send to. The answer (201) is
the SMS Command as `GET /v1/SmsCommands/{Sid}` shows it, `received` and `from_sim`.
"""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.devices.routes import device_operation
from fleetsim.api.sms_commands.wire import render_sms_command
from fleetsim.contract import Param
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.sms_commands import service

__all__ = ["DEVICE_SMS_ROUTES"]

SEND = device_operation(
    "SendDeviceSms",
    "POST",
    "/devices/{Sim}/sms",
    Param("To", "form", True, "string"),
    Param("Body", "form", True, "string"),
    answer="supersim.v1.sms_command",
)


@endpoint(SEND)
def send_sms(call: Call) -> Reply:
    command = service.receive_sms_command(
        call.session,
        call.account,
        call.path["Sim"],
        to=call.params["To"],
        body=call.params["Body"],
        now=call.clock.now(),
        sids=call.sids,
    )
    return call.created(render_sms_command(command, call.account.sid, call.urls))


DEVICE_SMS_ROUTES = [Route(SEND.path, send_sms, methods=["POST"], name=SEND.id)]
