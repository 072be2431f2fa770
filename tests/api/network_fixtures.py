"""Building blocks for tests of the simulated network: a Sim that can connect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.api.conftest import Api


@dataclass(frozen=True)
class ConnectedSim:
    sid: str
    iccid: str
    fleet_sid: str
    profile_sid: str
    network_sids: list[str]  # in the profile
    other_network_sid: str  # a real network not in the profile


def advance(api: Api, seconds: float) -> dict[str, Any]:
    """Move the server clock, running what falls due."""
    response = api.control("POST", "/control/clock/advance", {"Seconds": str(seconds)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def connectable_sim(
    api: Api,
    *,
    status: str = "active",
    networks: int = 1,
    fleet: dict[str, str] | None = None,
) -> ConnectedSim:
    """A registered Sim in a new Fleet whose profile holds `networks` US networks, moved to
    `status` (the clock is advanced past the update)."""
    sids = api.network_sids(networks + 1)
    profile = api.post("/v1/NetworkAccessProfiles", data={"Networks": sids[:networks]})
    assert profile.status_code == 201, profile.text
    fleet_data = {"NetworkAccessProfile": profile.json()["sid"], **(fleet or {})}
    created = api.post("/v1/Fleets", data=fleet_data)
    assert created.status_code == 201, created.text
    (card,) = api.cards(1)
    sim = api.post(
        "/v1/Sims", data={"Iccid": card.iccid, "RegistrationCode": card.registration_code}
    )
    assert sim.status_code == 201, sim.text
    sid = sim.json()["sid"]
    update = api.post(f"/v1/Sims/{sid}", data={"Fleet": created.json()["sid"]})
    assert update.status_code == 200, update.text
    if status != "new":
        changed = api.post(f"/v1/Sims/{sid}", data={"Status": status})
        assert changed.status_code == 202, changed.text
        advance(api, 10)
    return ConnectedSim(
        sid=sid,
        iccid=card.iccid,
        fleet_sid=created.json()["sid"],
        profile_sid=profile.json()["sid"],
        network_sids=sids[:networks],
        other_network_sid=sids[networks],
    )


def attach(api: Api, sim: str, network: str) -> dict[str, Any]:
    response = api.post(f"/devices/{sim}/attach", data={"Network": network})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
