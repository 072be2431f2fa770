"""The operator's side of eSIM Profiles and Settings Updates, under /control:

GET  /control/esim/stock                      how many eSIM Profiles can still be reserved
POST /control/esim/stock                      Remaining=…: set it (0: creating answers 83500)
POST /control/esim/profiles/{Sid}/failure     [ErrorCode=…&ErrorMessage=…]: the profile's
                                              next download or installation fails
POST /control/settings-updates                Sim=HS… or Fleet=HF…, Package=…, Version=…,
                                              [Outcome=successful|failed]: schedule an
                                              over-the-air update (waits for the device)
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fleetsim.api.settings_updates.wire import render_settings_update
from fleetsim.control.routes import ControlCall, control_endpoint
from fleetsim.core.errors import InvalidParameter, MissingParameter
from fleetsim.resources.esim_profiles.smdp import INJECTED, inject_failure
from fleetsim.resources.esim_profiles.stock import MAX_STOCK, get_stock, set_stock
from fleetsim.resources.settings_updates.service import schedule_settings_update

__all__ = ["PROVISIONING_ROUTES"]


@control_endpoint
def esim_stock(call: ControlCall) -> dict[str, Any]:
    if call.method == "GET":
        with call.session(write=False) as session:
            return {"remaining": get_stock(session)}
    raw = call.params.get("Remaining")
    if raw is None:
        raise MissingParameter("Remaining")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise InvalidParameter("Remaining", f"must be a whole number from 0 to {MAX_STOCK}")
    with call.session(write=True) as session:
        return {"remaining": set_stock(session, int(raw))}


@control_endpoint
def esim_failure(call: ControlCall) -> dict[str, Any]:
    code = call.params.get("ErrorCode", INJECTED)
    message = call.params.get("ErrorMessage", "The operator made this step fail")
    if not code or len(code) > 32:
        raise InvalidParameter("ErrorCode", "must be 1 to 32 characters")
    with call.session(write=True) as session:
        profile = inject_failure(session, call.path["Sid"], code=code, message=message)
        return {
            "esim_profile_sid": profile.sid,
            "status": profile.status,
            "next_error_code": code,
            "next_error_message": message,
        }


@control_endpoint
def schedule_update(call: ControlCall) -> dict[str, Any]:
    with call.session(write=True) as session:
        updates = schedule_settings_update(
            session,
            sim=call.params.get("Sim"),
            fleet=call.params.get("Fleet"),
            name=call.params.get("Package"),
            version=call.params.get("Version"),
            outcome=call.params.get("Outcome", "successful"),
            now=call.runtime.clock.now(),
            sids=call.runtime.sids,
        )
        return {"settings_updates": [render_settings_update(u) for u in updates]}


PROVISIONING_ROUTES = [
    Route("/control/esim/stock", esim_stock, methods=["GET", "POST"], name="control:esim-stock"),
    Route(
        "/control/esim/profiles/{Sid}/failure",
        esim_failure,
        methods=["POST"],
        name="control:esim-failure",
    ),
    Route(
        "/control/settings-updates",
        schedule_update,
        methods=["POST"],
        name="control:settings-updates",
    ),
]
