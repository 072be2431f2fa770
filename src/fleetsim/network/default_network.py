"""Which network a device attaches to when none is named, for the clients of the device
API (the `fleetsim device` command and the testing helpers): one choice, in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["fleet_network"]


def fleet_network(get: Callable[[str], Any], sim: str) -> str | None:
    """The first network of the Network Access Profile of `sim`'s Fleet, read through the
    Super SIM API with `get(path) -> JSON`; None when the Sim has no Fleet or its profile
    no network (the attach request then says what is missing).

    Deviation: a real modem picks among the networks it hears; here it is the profile's
    first, so that tests are repeatable."""
    found = get(f"/v1/Sims/{sim}")
    if not found.get("fleet_sid"):
        return None
    fleet = get(f"/v1/Fleets/{found['fleet_sid']}")
    profile = fleet["network_access_profile_sid"]
    networks = get(f"/v1/NetworkAccessProfiles/{profile}/Networks")["networks"]
    return str(networks[0]["sid"]) if networks else None
