"""Spec conformance fuzzing: schemathesis, from the server's own /openapi.json, against a live
`fleetsim serve` holding real objects (NAPs, Fleets, Sims in several statuses, SMS and IP
Commands, usage), over every Twilio-compatible operation.

For every generated request (positive and negative data): no 5xx, a status code and a
content type the document allows, a body valid against the response schema (the contract's
for 2xx, Twilio's error body for 4xx), and invalid data refused with a 4xx.

The account also holds an eSIM Profile (available, with its Sim) and Settings Updates (each
registered Sim's base settings, and one scheduled over the air).

Path SIDs, and the parameters that name other objects (Sim, Fleet, NetworkAccessProfile,
Network, Eid...), are real objects' SIDs or names about half of the time, so requests reach the
handlers rather than stop at 404.

The same runs over KORE's Super SIM spec (the vendored copy of `kore-supersim-v1.json`),
with a Bearer token of an API client of the account: KORE's dialect, its `PageSize` limits
included (a larger one is negative data, which must be refused).

Failures are collected rather than shrunk, so one run reports them all. The case count is
recorded and printed in the terminal summary. CI runs a bounded count; a longer run:

    FLEETSIM_FUZZ_EXAMPLES=2000 ./dev test tests/contract/test_fuzz.py -n0 -k sqlite

(FLEETSIM_FUZZ_SEED picks other examples; the default seed keeps CI repeatable.)
"""

from __future__ import annotations

import base64
import copy
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    FailureGroup,
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from fleetsim.contract import document
from fleetsim.core.dialect import Dialect
from fleetsim.testing.kore import KoreClient
from tests.contract.conftest import Live
from tests.support.checks import ok

pytestmark = [pytest.mark.live]

CLOCK_START = "2026-02-01T09:00:00Z"
EID = "89049032005008882600033489000001"
TWILIO_TAG = "Super SIM v1 (Twilio-compatible)"
# Examples per operation and generation mode; PostgreSQL gets fewer (same code paths, a
# slower backend). FLEETSIM_FUZZ_EXAMPLES raises both.
EXAMPLES = {"sqlite": 12, "postgresql": 4}
# KORE's spec is Twilio's but for the credential and the limits: fewer examples suffice.
KORE_EXAMPLES = {"sqlite": 5, "postgresql": 2}
# Where Twilio's answers contradict its own spec, the answers win (parity first): the
# document keeps the spec as it is, and only the response check here is told of the erratum.
# Twilio's recorded eSIM Profiles give `smdp_plus_address` as a bare host name
# ("sm-dp-plus.twilio.com"), which the spec's `format: uri` refuses; tests/contract/
# test_shapes.py holds fleetsim's answers to the recorded ones.
SPEC_ERRATA = [("supersim.v1.esim_profile", "smdp_plus_address", "format")]
CHECKS = [
    not_a_server_error,
    # Invalid data (negative cases) is refused with a 4xx, never accepted.
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(manual_live: Live) -> Live:
    return manual_live


@pytest.fixture(scope="module")
def objects(live: Live, control: httpx.Client) -> Objects:
    return seed_objects(live, control)


@dataclass
class Objects:
    """Real objects of the account, by the collection (path segment) they live in."""

    by_collection: dict[str, list[str]] = field(default_factory=dict)
    # Values for parameters that name other objects (SIDs, unique names, ICCIDs).
    by_param: dict[str, list[str]] = field(default_factory=dict)


def seed_objects(live: Live, control: httpx.Client) -> Objects:
    """Two NAPs, two Fleets, Sims in every status, commands and usage, an eSIM Profile and
    Settings Updates."""
    ok(control.post("/control/policies/sim", data={"Policy": "immediate"}))
    with live.http() as api:
        networks = ok(api.get("/v1/Networks", params={"IsoCountry": "US"}))["networks"]
        network_sids = [n["sid"] for n in networks[:3]]
        naps = [
            ok(api.post("/v1/NetworkAccessProfiles", data={"Networks": sids}), 201)["sid"]
            for sids in (network_sids[:2], network_sids[2:])
        ]
        fleets = [
            ok(
                api.post(
                    "/v1/Fleets",
                    data={
                        "NetworkAccessProfile": nap,
                        "UniqueName": f"fuzz-fleet-{n}",
                        "SmsCommandsEnabled": "true",
                    },
                ),
                201,
            )["sid"]
            for n, nap in enumerate(naps)
        ]
        sims = []
        for card in live.cards[:6]:
            body = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
            sims.append(ok(api.post("/v1/Sims", data=body), 201)["sid"])
        _new, ready, active, used, inactive, scheduled = sims
        for sid, status in ((ready, "ready"), (active, "active"), (used, "active")):
            body = {"Fleet": fleets[0], "Status": status, "UniqueName": f"fuzz-{status}-{sid}"}
            ok(api.post(f"/v1/Sims/{sid}", data=body), 202)
        ok(api.post(f"/v1/Sims/{inactive}", data={"Status": "inactive"}), 202)
        ok(control.post("/control/clock/advance", data={"Seconds": "10"}))
        ok(api.post(f"/devices/{used}/attach", data={"Network": network_sids[0]}))
        ok(api.post(f"/devices/{used}/data", data={"Upload": "1000", "Download": "5000"}))
        sms = [
            ok(api.post("/v1/SmsCommands", data={"Sim": sid, "Payload": "hi"}), 201)["sid"]
            for sid in (active, used)
        ]
        ip = [
            ok(
                api.post("/v1/IpCommands", data={"Sim": used, "Payload": "hi", "DevicePort": "9"}),
                201,
            )["sid"]
        ]
        profile = ok(api.post("/v1/ESimProfiles", data={"Eid": EID}), 201)["sid"]
        update = {"Sim": active, "Package": "fuzz-settings", "Version": "2"}
        ok(control.post("/control/settings-updates", data=update))
        ok(control.post("/control/clock/advance", data={"Seconds": "3600"}))
        assert ok(api.get(f"/v1/ESimProfiles/{profile}"))["status"] == "available"
        assert len(ok(api.get("/v1/SettingsUpdates"))["settings_updates"]) > len(sims)
        # A Sim left `scheduled`: its activation waits for the operator.
        ok(control.post("/control/policies/sim", data={"Policy": "manual"}))
        body = {"Fleet": fleets[1], "Status": "active"}
        ok(api.post(f"/v1/Sims/{scheduled}", data=body), 202)
        assert {s["status"] for s in ok(api.get("/v1/Sims"))["sims"]} == {
            "new",
            "ready",
            "active",
            "inactive",
            "scheduled",
        }
    spare = live.cards[6:]
    unique_names = [f"fuzz-fleet-{n}" for n in range(2)]
    return Objects(
        by_collection={
            "Sims": sims,
            "Fleets": fleets,
            "NetworkAccessProfiles": naps,
            "Networks": network_sids,
            "SmsCommands": sms,
            "IpCommands": ip,
            "ESimProfiles": [profile],
        },
        by_param={
            "Sim": sims,
            "SimSid": sims,
            "Fleet": fleets + unique_names,
            "NetworkAccessProfile": naps,
            "Network": network_sids,
            "Networks": network_sids,
            "Iccid": [card.iccid for card in live.cards],
            "SimIccid": [card.iccid for card in live.cards],
            "RegistrationCode": [card.registration_code for card in spare],
            "AccountSid": [live.account_sid],
            "Eid": [EID],
        },
    )


def path_pools(path: str, objects: Objects) -> dict[str, list[str]]:
    """For each path parameter, the real SIDs of the collection it follows."""
    segments = path.strip("/").split("/")
    pools = {}
    for before, segment in itertools.pairwise(segments):
        if segment.startswith("{"):
            pools[segment.strip("{}")] = objects.by_collection.get(before, [])
    return pools


@dataclass
class Tally:
    cases: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def fuzz_operation(
    operation: Any,
    objects: Objects,
    base_url: str,
    session: requests.Session,
    credentials: dict[str, str],
    tally: Tally,
    examples: int,
    fuzz_seed: int,
) -> None:
    pools = path_pools(operation.path, objects)

    def inject(case: Any, pick: Callable[[Any], Any]) -> None:
        for name, pool in pools.items():
            if pool and pick(st.booleans()):
                case.path_parameters[name] = pick(st.sampled_from(pool))
        containers = [case.query]
        if isinstance(case.body, dict):
            containers.append(case.body)
        for container in containers:
            if not container:
                continue
            for name in list(container):
                pool = objects.by_param.get(name)
                if pool and pick(st.booleans()):
                    value = pick(st.sampled_from(pool))
                    container[name] = [value] if isinstance(container[name], list) else value

    raw = operation.definition.raw
    # A string path parameter without constraints has no invalid value: an operation with
    # nothing else (e.g. FetchSim) has no negative cases.
    negatable = "requestBody" in raw or any(p["in"] != "path" for p in raw.get("parameters", []))
    modes = [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if negatable else [])]
    for mode in modes:
        # The credentials are fixed, so negative cases do not spend themselves on dropping
        # them (a 401 from authentication, which the auth matrix covers).
        strategy = operation.as_strategy(generation_mode=mode, headers=credentials)
        label = f"{operation.label} [{mode.value}]"
        run_cases(strategy, label, inject, base_url, session, tally, examples, fuzz_seed)


def run_cases(
    strategy: Any,
    label: str,
    inject: Callable[[Any, Callable[[Any], Any]], None],
    base_url: str,
    session: requests.Session,
    tally: Tally,
    examples: int,
    fuzz_seed: int,
) -> None:
    @given(case=strategy, data=st.data())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @seed(fuzz_seed)
    def run(case: Any, data: st.DataObject) -> None:
        inject(case, data.draw)
        tally.cases += 1
        try:
            response = case.call(base_url=base_url, session=session, timeout=30)
        except requests.RequestException as exc:
            tally.failures.append(f"{label}: {exc!r}\n{case.as_curl_command()}")
            return
        tally.by_status[response.status_code] = tally.by_status.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as exc:
            tally.failures.append(
                f"{label} -> {response.status_code} {response.text[:300]}\n{exc}\n"
                + case.as_curl_command()
            )

    run()


def fuzz(
    operations: list[Any],
    objects: Objects,
    base_url: str,
    credentials: dict[str, str],
    examples_default: int,
) -> tuple[Tally, float]:
    """Every operation's generated cases against the server; the tally and the seconds."""
    examples = int(os.environ.get("FLEETSIM_FUZZ_EXAMPLES", examples_default))
    fuzz_seed = int(os.environ.get("FLEETSIM_FUZZ_SEED", "7"))
    tally = Tally()
    started = time.monotonic()
    with requests.Session() as session:
        for operation in operations:
            fuzz_operation(
                operation, objects, base_url, session, credentials, tally, examples, fuzz_seed
            )
    return tally, time.monotonic() - started


def report(
    name: str,
    tally: Tally,
    elapsed: float,
    operations: int,
    record_property: Callable[[str, object], None],
) -> None:
    summary = (
        f"{name}: {tally.cases} cases over {operations} operations "
        f"in {elapsed:.1f} s, {len(tally.failures)} failures; statuses "
        + ", ".join(f"{code}: {n}" for code, n in sorted(tally.by_status.items()))
    )
    record_property("conformance", summary)
    print(summary)
    assert not tally.failures, "\n\n".join(tally.failures[:20])
    # Real objects were reached (fetched, created), not only refused.
    assert {200, 201} <= set(tally.by_status), tally.by_status


def test_every_twilio_operation_conforms_to_the_document(
    live: Live,
    objects: Objects,
    module_database_url: str,
    record_property: Callable[[str, object], None],
) -> None:
    backend = "sqlite" if module_database_url.startswith("sqlite") else "postgresql"
    raw = requests.get(f"{live.base_url}/openapi.json", timeout=10).json()
    for schema_name, prop, keyword in SPEC_ERRATA:
        del raw["components"]["schemas"][schema_name]["properties"][prop][keyword]
    schema = schemathesis.openapi.from_dict(raw)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if TWILIO_TAG in result.ok().definition.raw.get("tags", [])
    ]
    twilio_paths = {
        (method.upper(), path)
        for path, item in raw["paths"].items()
        for method, op in item.items()
        if TWILIO_TAG in op["tags"]
    }
    assert {(op.method.upper(), op.path) for op in operations} == twilio_paths
    assert len(operations) >= 31
    assert {
        ("POST", "/v1/ESimProfiles"),
        ("GET", "/v1/ESimProfiles"),
        ("GET", "/v1/ESimProfiles/{Sid}"),
        ("GET", "/v1/SettingsUpdates"),
    } <= twilio_paths
    token = base64.b64encode(f"{live.account_sid}:{live.auth_token}".encode()).decode()
    credentials = {"Authorization": f"Basic {token}"}
    tally, elapsed = fuzz(operations, objects, live.base_url, credentials, EXAMPLES[backend])
    report(f"fuzz ({backend})", tally, elapsed, len(operations), record_property)


def kore_document() -> dict[str, Any]:
    """KORE's Super SIM spec as vendored, with the error body of 4XX answers (KORE's
    dialect: `more_info` on KORE's documentation host) and the errata above."""
    raw = copy.deepcopy(document(Dialect.KORE))
    error = {
        "type": "object",
        "required": ["code", "message", "more_info", "status"],
        "properties": {
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "more_info": {"type": "string", "pattern": "^https://docs\\.korewireless\\.com/"},
            "status": {"type": "integer"},
        },
    }
    raw["components"]["schemas"]["kore.error"] = error
    for item in raw["paths"].values():
        item.pop("servers", None)  # KORE's host: the cases go to the live server
        for method, operation in item.items():
            if method not in ("get", "post", "delete"):
                continue
            operation["responses"]["4XX"] = {
                "description": "KORE's error body",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/kore.error"}}
                },
            }
    for schema_name, prop, keyword in SPEC_ERRATA:
        del raw["components"]["schemas"][schema_name]["properties"][prop][keyword]
    return raw


def test_every_operation_of_kores_spec_conforms_with_a_bearer_token(
    live: Live,
    objects: Objects,
    control: httpx.Client,
    module_database_url: str,
    record_property: Callable[[str, object], None],
) -> None:
    backend = "sqlite" if module_database_url.startswith("sqlite") else "postgresql"
    made = ok(
        control.post(f"/control/accounts/{live.account_sid}/api-clients", data={"Lifetime": "24mo"})
    )
    with KoreClient(live.base_url, made["client_id"], made["client_secret"]) as kore:
        ok(kore.get("/v1/Sims"))  # fetches the token
        credentials = {"Authorization": f"Bearer {kore.kore_auth.access_token}"}
    raw = kore_document()
    operations = [
        result.ok() for result in schemathesis.openapi.from_dict(raw).get_all_operations()
    ]
    assert len(operations) == 31
    examples = KORE_EXAMPLES[backend]
    tally, elapsed = fuzz(operations, objects, live.base_url, credentials, examples)
    report(f"fuzz, KORE's spec ({backend})", tally, elapsed, len(operations), record_property)
