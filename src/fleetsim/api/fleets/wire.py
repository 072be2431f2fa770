"""Fleets on the wire."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleetsim.core.dates import iso
from fleetsim.core.errors import InvalidParameter
from fleetsim.db.tables import Fleet
from fleetsim.http.urls import Urls
from fleetsim.resources.fleets.service import FleetChanges, NewFleet

__all__ = ["fleet_changes", "fleet_path", "new_fleet", "render_fleet"]

_FIXED_AT_CREATION = ("DataEnabled", "SmsCommandsEnabled", "DataMetering")


def fleet_path(sid: str) -> str:
    return f"/v1/Fleets/{sid}"


def new_fleet(params: Mapping[str, Any]) -> NewFleet:
    defaults = NewFleet(network_access_profile="")
    return NewFleet(
        network_access_profile=params["NetworkAccessProfile"],
        unique_name=params.get("UniqueName"),
        data_enabled=params.get("DataEnabled", defaults.data_enabled),
        data_limit=params.get("DataLimit", defaults.data_limit),
        sms_commands_enabled=params.get("SmsCommandsEnabled", defaults.sms_commands_enabled),
        sms_commands_url=params.get("SmsCommandsUrl"),
        sms_commands_method=params.get("SmsCommandsMethod", defaults.sms_commands_method),
        ip_commands_url=params.get("IpCommandsUrl"),
        ip_commands_method=params.get("IpCommandsMethod", defaults.ip_commands_method),
    )


def fleet_changes(params: Mapping[str, Any], form: Sequence[tuple[str, str]]) -> FleetChanges:
    for name, _ in form:
        if name in _FIXED_AT_CREATION:
            raise InvalidParameter(
                name, "is fixed when a Fleet is created; create a new Fleet and move the Sims"
            )
    return FleetChanges(
        unique_name=params.get("UniqueName"),
        network_access_profile=params.get("NetworkAccessProfile"),
        data_limit=params.get("DataLimit"),
        sms_commands_url=params.get("SmsCommandsUrl"),
        sms_commands_method=params.get("SmsCommandsMethod"),
        ip_commands_url=params.get("IpCommandsUrl"),
        ip_commands_method=params.get("IpCommandsMethod"),
    )


def render_fleet(fleet: Fleet, account_sid: str, urls: Urls) -> dict[str, Any]:
    return {
        "account_sid": account_sid,
        "sid": fleet.sid,
        "unique_name": fleet.unique_name,
        "data_enabled": fleet.data_enabled,
        "data_limit": fleet.data_limit,
        "data_metering": fleet.data_metering,
        "date_created": iso(fleet.date_created),
        "date_updated": iso(fleet.date_updated),
        "sms_commands_enabled": fleet.sms_commands_enabled,
        "sms_commands_url": fleet.sms_commands_url,
        "sms_commands_method": fleet.sms_commands_method,
        "ip_commands_url": fleet.ip_commands_url,
        "ip_commands_method": fleet.ip_commands_method,
        "network_access_profile_sid": fleet.network_access_profile.sid,
        "url": urls.absolute(fleet_path(fleet.sid)),
    }
