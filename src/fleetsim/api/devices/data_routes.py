"""The device uses data:

    POST /devices/{Sim}/data   Upload=…&Download=… bytes (at least one > 0), Over=… seconds

Without `Over` (or with 0) the bytes are counted at once; with it they are spread over
that much clock time, counted window by window (see `fleetsim.network.usage`). The reply
gives the bytes asked for, those counted at once (`counted_upload`, `counted_download`),
the number of `windows`, when the use `ends_at`, the Sim's status after it (`sim_status`:
it may have just become active) and the device.
"""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.devices.routes import device_operation
from fleetsim.api.devices.wire import render_device
from fleetsim.contract import Param
from fleetsim.core.dates import iso
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.network.usage import MAX_BYTES, MAX_OVER_SECONDS, use_data

__all__ = ["DATA_ROUTES"]

USE_DATA = device_operation(
    "UseDeviceData",
    "POST",
    "/devices/{Sim}/data",
    Param("Upload", "form", False, "integer", minimum=0, maximum=MAX_BYTES),
    Param("Download", "form", False, "integer", minimum=0, maximum=MAX_BYTES),
    Param("Over", "form", False, "integer", minimum=0, maximum=MAX_OVER_SECONDS),
    answer="fleetsim.device_data",
)


@endpoint(USE_DATA)
def use_device_data(call: Call) -> Reply:
    use = use_data(
        call.session,
        call.account,
        call.path["Sim"],
        upload=call.params.get("Upload", 0),
        download=call.params.get("Download", 0),
        over_seconds=call.params.get("Over", 0),
        now=call.clock.now(),
        sids=call.sids,
    )
    return call.ok(
        {
            "sim_sid": use.sim.sid,
            "sim_status": use.sim.status,
            "upload": call.params.get("Upload", 0),
            "download": call.params.get("Download", 0),
            "counted_upload": use.upload,
            "counted_download": use.download,
            "windows": use.windows,
            "ends_at": iso(use.ends_at),
            "device": render_device(use.sim, use.device, use.network),
        }
    )


DATA_ROUTES = [Route(USE_DATA.path, use_device_data, methods=["POST"], name=USE_DATA.id)]
