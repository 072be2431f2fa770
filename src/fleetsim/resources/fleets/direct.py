"""Fleets written without the ORM: the direct write of creating a Fleet (see
`fleetsim.http.direct`). It stores the row of `service.new_fleet_values`, as
`service.create_fleet` does, and leaves every other case to the full handler in `routes`."""

from __future__ import annotations

from fleetsim.contract import operation
from fleetsim.core.sids import Prefix
from fleetsim.db.direct import detached
from fleetsim.db.tables import Fleet, NetworkAccessProfile
from fleetsim.http.direct import DirectAnswer, DirectCall
from fleetsim.http.params import parse_params
from fleetsim.resources.fleets.service import new_fleet_values
from fleetsim.resources.fleets.wire import new_fleet, render_fleet

__all__ = ["create_fleet_directly"]

_CREATE_FLEET = operation("CreateFleet")


def create_fleet_directly(call: DirectCall) -> DirectAnswer | None:
    """`create_fleet` with a profile that exists and a UniqueName not taken."""
    if call.query:
        return None
    fleet = new_fleet(parse_params(_CREATE_FLEET, call.form, location="form"))
    found = call.writes.by_ref(
        "network_access_profiles",
        "id, sid",
        call.account_id,
        fleet.network_access_profile,
        Prefix.NETWORK_ACCESS_PROFILE,
    )
    if found is None:
        return None
    profile = detached(NetworkAccessProfile, {"id": found[0], "sid": found[1]})
    values = new_fleet_values(call.account_id, fleet, profile, now=call.clock.now(), sids=call.sids)
    row = call.writes.insert(Fleet, values)
    return 201, render_fleet(row, call.account_sid, call.urls)
