"""The SM-DP+ on fleetsim's device API, with the owning account's credentials:

    POST /esim/{Eid}/download    [MatchingId=…]: the eUICC downloads its eSIM Profile
    POST /esim/{Eid}/install     [Profile=HP…]: it installs the profile it downloaded

The answer (200) says whether it worked (`downloaded` / `installed`), the `error` if not,
and the eSIM Profile as `GET /v1/ESimProfiles/{Sid}` shows it.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fleetsim.api.esim_profiles.wire import render_esim_profile
from fleetsim.contract import Operation, Param
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.esim_profiles import smdp

__all__ = ["SMDP_ROUTES"]

EID = Param("Eid", "path", True, "string")


def smdp_operation(name: str, path: str, *params: Param) -> Operation:
    """One of the SM-DP+'s operations, described like the contract's (as the device API's
    `device_operation`, keyed by the eUICC's EID instead of a Sim)."""
    return Operation(name, "POST", path, {"Eid": EID, **{p.name: p for p in params}}, (200,))


DOWNLOAD = smdp_operation(
    "DownloadESimProfile", "/esim/{Eid}/download", Param("MatchingId", "form", False, "string")
)
INSTALL = smdp_operation(
    "InstallESimProfile", "/esim/{Eid}/install", Param("Profile", "form", False, "string")
)


def _reply(call: Call, done: str, outcome: smdp.SmdpOutcome) -> Reply:
    error: dict[str, Any] | None = None
    if outcome.error is not None:
        error = {"code": outcome.error.code, "message": outcome.error.message}
    profile = render_esim_profile(outcome.profile, call.account.sid, call.urls)
    return call.ok({done: outcome.error is None, "error": error, "esim_profile": profile})


@endpoint(DOWNLOAD)
def download_profile(call: Call) -> Reply:
    outcome = smdp.download_profile(
        call.session,
        call.account,
        call.path["Eid"],
        matching_id=call.params.get("MatchingId"),
        now=call.clock.now(),
    )
    return _reply(call, "downloaded", outcome)


@endpoint(INSTALL)
def install_profile(call: Call) -> Reply:
    outcome = smdp.install_profile(
        call.session,
        call.account,
        call.path["Eid"],
        profile_sid=call.params.get("Profile"),
        now=call.clock.now(),
    )
    return _reply(call, "installed", outcome)


SMDP_ROUTES = [
    Route(DOWNLOAD.path, download_profile, methods=["POST"], name=DOWNLOAD.id),
    Route(INSTALL.path, install_profile, methods=["POST"], name=INSTALL.id),
]
