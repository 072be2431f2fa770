"""Every implemented operation answers, over real HTTP, with exactly the keys of Twilio's
spec and of Twilio's own recorded responses (tests/contract/fixture_shapes.json).

One live server per backend records one response per operation; each operation is then
checked on its own, so a failure names the operation.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from fleetsim.app.asgi import API_ROUTES
from fleetsim.contract import document, operation, schema_properties
from tests.contract.conftest import Live

SHAPES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixture_shapes.json").read_text("utf-8")
)

# Operation id -> (resource, operation) as named in fixture_shapes.json.
FIXTURE_NAMES = {
    "ListNetwork": ("networks", "list"),
    "FetchNetwork": ("networks", "fetch"),
    "CreateNetworkAccessProfile": ("network_access_profiles", "create"),
    "FetchNetworkAccessProfile": ("network_access_profiles", "fetch"),
    "ListNetworkAccessProfile": ("network_access_profiles", "list"),
    "UpdateNetworkAccessProfile": ("network_access_profiles", "update"),
    "ListNetworkAccessProfileNetwork": ("network_access_profiles/networks", "list"),
    "CreateNetworkAccessProfileNetwork": ("network_access_profiles/networks", "create"),
    "FetchNetworkAccessProfileNetwork": ("network_access_profiles/networks", "fetch"),
    "DeleteNetworkAccessProfileNetwork": ("network_access_profiles/networks", "delete"),
    "CreateFleet": ("fleets", "create"),
    "FetchFleet": ("fleets", "fetch"),
    "ListFleet": ("fleets", "list"),
    "UpdateFleet": ("fleets", "update"),
    "CreateSim": ("sims", "create"),
    "FetchSim": ("sims", "fetch"),
    "ListSim": ("sims", "list"),
    "UpdateSim": ("sims", "update"),
    "ListBillingPeriod": ("sims/billing_periods", "list"),
    "ListSimIpAddress": ("sims/sim_ip_addresses", "list"),
    "CreateSmsCommand": ("sms_commands", "create"),
    "FetchSmsCommand": ("sms_commands", "fetch"),
    "ListSmsCommand": ("sms_commands", "list"),
    "CreateIpCommand": ("ip_commands", "create"),
    "FetchIpCommand": ("ip_commands", "fetch"),
    "ListIpCommand": ("ip_commands", "list"),
    "ListUsageRecord": ("usage_records", "list"),
    "CreateEsimProfile": ("esim_profiles", "create"),
    "FetchEsimProfile": ("esim_profiles", "fetch"),
    "ListEsimProfile": ("esim_profiles", "list"),
    "ListSettingsUpdate": ("settings_updates", "list"),
}

# Lists that are empty for a `new` Sim: only their envelope can be checked here.
EMPTY_LISTS = {"ListBillingPeriod", "ListSimIpAddress"}


def fixtures_for(operation_id: str) -> list[dict[str, Any]]:
    resource, name = FIXTURE_NAMES[operation_id]
    found = [r for r in SHAPES["responses"] if (r["resource"], r["operation"]) == (resource, name)]
    assert found, f"no Twilio fixture for {resource} {name}"
    return found


def spec_meta_keys(operation_id: str) -> set[str]:
    op = operation(operation_id)
    response = document()["paths"][op.path][op.method.lower()]["responses"]["200"]
    schema = response["content"]["application/json"]["schema"]
    return set(schema["properties"]["meta"]["properties"])


def nested_shapes(item: dict[str, Any]) -> dict[str, set[str]]:
    """Keys of each object field and of the first object in each list field (as the
    fixture shapes were made by scripts/make_contract.py)."""
    nested: dict[str, set[str]] = {}
    for name, value in item.items():
        if isinstance(value, dict):
            nested[name] = set(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            nested[name] = set(value[0])
    return nested


@pytest.fixture(scope="module")
def recorded(module_live: Live) -> dict[str, httpx.Response]:
    """One response per operation, from requests built from the contract's method and path."""
    responses: dict[str, httpx.Response] = {}
    cards = module_live.cards

    with module_live.http() as http:

        def call(operation_id: str, path: dict[str, str] | None = None, **kwargs: Any) -> Any:
            op = operation(operation_id)
            response = http.request(op.method, op.path.format(**(path or {})), **kwargs)
            assert response.status_code < 300, (operation_id, response.text)
            responses[operation_id] = response
            return response.json() if response.content else None

        networks = call("ListNetwork", params={"IsoCountry": "US", "PageSize": 3})["networks"]
        first, second, third = (n["sid"] for n in networks)
        call("FetchNetwork", {"Sid": first})

        profile = call(
            "CreateNetworkAccessProfile",
            data={"UniqueName": "shapes-profile", "Networks": [first, second]},
        )["sid"]
        call("FetchNetworkAccessProfile", {"Sid": profile})
        call("ListNetworkAccessProfile")
        call("UpdateNetworkAccessProfile", {"Sid": profile}, data={"UniqueName": "shapes-nap"})
        in_profile = {"NetworkAccessProfileSid": profile}
        call("ListNetworkAccessProfileNetwork", in_profile)
        call("CreateNetworkAccessProfileNetwork", in_profile, data={"Network": third})
        call("FetchNetworkAccessProfileNetwork", {**in_profile, "Sid": third})
        call("DeleteNetworkAccessProfileNetwork", {**in_profile, "Sid": third})

        fleet = call(
            "CreateFleet", data={"NetworkAccessProfile": profile, "UniqueName": "shapes-fleet"}
        )["sid"]
        call("FetchFleet", {"Sid": fleet})
        call("ListFleet")
        call("UpdateFleet", {"Sid": fleet}, data={"DataLimit": "500"})
        # SMS Commands need an active Sim: start one now (it completes on the real clock).
        card = {"Iccid": cards[1].iccid, "RegistrationCode": cards[1].registration_code}
        commanded = http.post("/v1/Sims", data=card).json()["sid"]
        activating = http.post(f"/v1/Sims/{commanded}", data={"Fleet": fleet, "Status": "active"})
        assert activating.status_code == 202, activating.text

        sim = call(
            "CreateSim",
            data={"Iccid": cards[0].iccid, "RegistrationCode": cards[0].registration_code},
        )["sid"]
        call("FetchSim", {"Sid": sim})
        call("ListSim")
        call("UpdateSim", {"Sid": sim}, data={"UniqueName": "shapes-sim", "Fleet": fleet})
        call("ListBillingPeriod", {"SimSid": sim})
        call("ListSimIpAddress", {"SimSid": sim})

        wait_for_status(http, commanded, "active")
        command = call("CreateSmsCommand", data={"Sim": commanded, "Payload": "shapes"})["sid"]
        call("FetchSmsCommand", {"Sid": command})
        call("ListSmsCommand", params={"Sim": commanded})
        ip_data = {"Sim": commanded, "Payload": "shapes", "DevicePort": "6969"}
        ip_command = call("CreateIpCommand", data=ip_data)["sid"]
        call("FetchIpCommand", {"Sid": ip_command})
        call("ListIpCommand", params={"Sim": commanded})
        call("ListUsageRecord", params={"Granularity": "day"})
        esim = call("CreateEsimProfile", data={"GenerateMatchingId": "true"})["sid"]
        call("FetchEsimProfile", {"Sid": esim})
        call("ListEsimProfile")
        # Every registered Sim has its base settings from manufacture.
        call("ListSettingsUpdate", params={"Sim": sim})
    return responses


def wait_for_status(http: httpx.Client, sim: str, status: str, bound: float = 30.0) -> None:
    """Until the Sim has `status` (a scheduled update completing on the real clock)."""
    deadline = time.monotonic() + bound
    pause = threading.Event()  # never set: a bounded pause between checks
    while http.get(f"/v1/Sims/{sim}").json()["status"] != status:
        assert time.monotonic() < deadline, f"the Sim did not become {status} in {bound}s"
        pause.wait(0.1)


def test_every_implemented_operation_is_checked() -> None:
    """A new route must come with a recipe above and a fixture mapping."""
    assert {route.name for route in API_ROUTES} == set(FIXTURE_NAMES)


@pytest.mark.live
@pytest.mark.parametrize("operation_id", list(FIXTURE_NAMES))
def test_response_keys_match_spec_and_twilio(
    operation_id: str, recorded: dict[str, httpx.Response]
) -> None:
    op = operation(operation_id)
    response = recorded[operation_id]
    fixtures = fixtures_for(operation_id)

    assert response.status_code in op.statuses
    assert response.status_code in {f["status"] for f in fixtures}
    if all(f["kind"] == "empty" for f in fixtures):
        assert response.content == b""
        return
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()

    if op.list_key is None:
        assert {f["kind"] for f in fixtures} == {"instance"}
        items = [body]
    else:
        assert {f["kind"] for f in fixtures} == {"list"}
        assert set(body) == {op.list_key, "meta"}
        assert body["meta"]["key"] == op.list_key
        assert {f["list_key"] for f in fixtures} == {op.list_key}
        assert set(body["meta"]) == spec_meta_keys(operation_id)
        for fixture in fixtures:
            assert set(body["meta"]) == set(fixture["meta_keys"]), fixture["test"]
        items = body[op.list_key]
        assert items or operation_id in EMPTY_LISTS, "the recipe should give a non-empty list"

    assert op.item_schema is not None
    spec_keys = set(schema_properties(op.item_schema))
    for item in items:
        assert set(item) == spec_keys, "keys differ from the spec's schema"
        for fixture in fixtures:
            if fixture["keys"] is None:  # an empty list: nothing to compare
                continue
            assert set(item) == set(fixture["keys"]), fixture["test"]
            expected = {name: set(keys) for name, keys in fixture["nested"].items()}
            assert nested_shapes(item) == expected, fixture["test"]
