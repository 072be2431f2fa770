"""eSIM Profiles on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetsim.core.dates import iso
from fleetsim.db.tables import ESimProfile
from fleetsim.http.urls import Urls
from fleetsim.resources.esim_profiles.service import NewESimProfile

__all__ = ["ESIM_PROFILES_PATH", "new_esim_profile", "render_esim_profile"]

ESIM_PROFILES_PATH = "/v1/ESimProfiles"


def new_esim_profile(params: Mapping[str, Any]) -> NewESimProfile:
    return NewESimProfile(
        eid=params.get("Eid") or None,
        generate_matching_id=bool(params.get("GenerateMatchingId", False)),
        callback_url=params.get("CallbackUrl") or None,
        callback_method=params.get("CallbackMethod") or "POST",
    )


def render_esim_profile(profile: ESimProfile, account_sid: str, urls: Urls) -> dict[str, Any]:
    return {
        "sid": profile.sid,
        "account_sid": account_sid,
        "iccid": profile.iccid,
        "sim_sid": profile.sim.sid if profile.sim is not None else None,
        "status": profile.status,
        "eid": profile.eid,
        "smdp_plus_address": profile.smdp_plus_address,
        "matching_id": profile.matching_id,
        "activation_code": profile.activation_code,
        "error_code": profile.error_code,
        "error_message": profile.error_message,
        "date_created": iso(profile.date_created),
        "date_updated": iso(profile.date_updated),
        "url": urls.absolute(f"{ESIM_PROFILES_PATH}/{profile.sid}"),
    }
