"""Helpers shared by the Sim tests: register cards, make fleets, fetch and list Sims."""

from __future__ import annotations

import base64
import re
from typing import Any

from fleetsim.inventory.service import Card
from tests.api.conftest import Api, Credentials

SIM_SID = re.compile(r"^HS[0-9a-f]{32}$")
MISSING_SIM = "HS" + "0" * 32


def register(api: Api, card: Card, as_: Credentials | None = None) -> dict[str, Any]:
    response = api.post(
        "/v1/Sims",
        data={"Iccid": card.iccid, "RegistrationCode": card.registration_code},
        as_=as_,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def register_many(api: Api, count: int, as_: Credentials | None = None) -> list[dict[str, Any]]:
    return [register(api, card, as_) for card in api.cards(count)]


def new_fleet(api: Api, unique_name: str | None = None, as_: Credentials | None = None) -> str:
    profile = api.post("/v1/NetworkAccessProfiles", data={}, as_=as_)
    assert profile.status_code == 201, profile.text
    data = {"NetworkAccessProfile": profile.json()["sid"]}
    if unique_name is not None:
        data["UniqueName"] = unique_name
    fleet = api.post("/v1/Fleets", data=data, as_=as_)
    assert fleet.status_code == 201, fleet.text
    sid: str = fleet.json()["sid"]
    return sid


def update(
    api: Api, ref: str, data: dict[str, str], as_: Credentials | None = None
) -> dict[str, Any]:
    response = api.post(f"/v1/Sims/{ref}", data=data, as_=as_)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fetch(api: Api, ref: str, as_: Credentials | None = None) -> dict[str, Any]:
    response = api.get(f"/v1/Sims/{ref}", as_=as_)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sids_of(api: Api, params: dict[str, Any], as_: Credentials | None = None) -> list[str]:
    response = api.get("/v1/Sims", params=params, as_=as_)
    assert response.status_code == 200, response.text
    return [s["sid"] for s in response.json()["sims"]]


def sim_count(api: Api, as_: Credentials | None = None) -> int:
    return len(sids_of(api, {}, as_))


def token(payload: bytes, prefix: str = "PA") -> str:
    return prefix + base64.urlsafe_b64encode(payload).decode().rstrip("=")


FORGED_TOKENS = [
    "garbage",
    "PA",
    "PA!!!!",
    "PX" + base64.urlsafe_b64encode(b"[1]").decode(),
    token(b"not json"),
    token(b"{}"),
    token(b"[]"),
    token(b"[1,2]"),
    token(b"[true]"),
    token(b"[null]"),
    token(b"[1.5]"),
    token(b'["abc"]'),
    token(b'["1"]'),
    token(b"[" + b"9" * 30 + b"]"),
    token(b"[" + b"9" * 30 + b"]", "PB"),
    "PA" + "A" * 600,
]
