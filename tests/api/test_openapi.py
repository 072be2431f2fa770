"""/openapi.json and /openapi/coverage: generated from the route table and the contract."""

from __future__ import annotations

import html
from typing import Any

from openapi_spec_validator import validate
from starlette.routing import Route

from fleetsim.api.devices.routes import device_operation
from fleetsim.app.coverage import deviations
from fleetsim.app.openapi import openapi_document
from fleetsim.contract import Param, document, operations
from fleetsim.control.answers import control_answer
from fleetsim.control.provisioning import PROVISIONING_ROUTES
from fleetsim.control.routes import CONTROL_ROUTES
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.http.runtime import Runtime
from tests.api.conftest import Api
from tests.api.network_fixtures import advance, attach, connectable_sim

METHODS = ("GET", "POST", "PATCH", "DELETE")


def spec(api: Api, **kwargs: Any) -> dict[str, Any]:
    response = api.client.get("/openapi.json", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def test_the_document_is_valid_openapi_3_and_describes_every_route(api: Api) -> None:
    doc = spec(api)
    validate(doc)
    assert doc["openapi"].startswith("3.")
    routes = [r for r in api.client.app.routes if isinstance(r, Route)]  # type: ignore[attr-defined]
    # The web console is HTML for people, not API: its pages are left out, and they are
    # exactly the routes under /console (the endpoints of the fleetsim.console package).
    console = [r for r in routes if r.path == "/console" or r.path.startswith("/console/")]
    assert len(console) > 10
    assert {id(r) for r in console} == {
        id(r) for r in routes if r.endpoint.__module__.startswith("fleetsim.console.")
    }
    api_routes = [r for r in routes if r not in console]
    described = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    served = {(m, r.path) for r in api_routes for m in (r.methods or ()) if m in METHODS}
    assert described == served
    assert not any(p.startswith("/console") for p in doc["paths"])
    for path in ("/v1/ESimProfiles", "/v1/SettingsUpdates", "/esim/{Eid}/download"):
        assert path in doc["paths"], path
    assert "/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}.json" in doc["paths"]
    assert {"/metrics", "/health", "/openapi.json", "/openapi/coverage"} <= set(doc["paths"])
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_twilio_operations_are_the_contracts_own_for_every_implemented_route(api: Api) -> None:
    doc = spec(api)
    contract = document()
    implemented = {
        r.name
        for r in api.client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, Route) and r.name in operations()
    }
    assert {"ListSim", "UpdateSim", "ListUsageRecord"} <= implemented
    assert {"CreateEsimProfile", "FetchEsimProfile", "ListEsimProfile"} <= implemented
    assert "ListSettingsUpdate" in implemented
    for op_id in implemented:
        op = operations()[op_id]
        described = doc["paths"][op.path][op.method.lower()]
        original = contract["paths"][op.path][op.method.lower()]
        assert described["operationId"] == op_id
        assert described.get("parameters") == original.get("parameters")
        assert described.get("requestBody") == original.get("requestBody")
        for status, response in original["responses"].items():
            assert described["responses"][status] == response
        error = described["responses"]["4XX"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/fleetsim.twilio_error"}
    # The spec's operations fleetsim does not serve are not described.
    without = [r for r in api.client.app.routes if not r.path.startswith("/v1/ESimProfiles")]  # type: ignore[attr-defined]
    assert "/v1/ESimProfiles" not in openapi_document(without, "http://fleetsim.test")["paths"]
    # Nothing points at Twilio: the spec's per-path servers are gone.
    assert "supersim.twilio.com" not in str(doc)


def test_servers_are_the_host_the_client_used_or_the_public_url(api: Api) -> None:
    assert spec(api)["servers"] == [{"url": "http://fleetsim.test"}]
    other = spec(api, headers={"Host": "sims.example.org:8443"})
    assert other["servers"] == [{"url": "http://sims.example.org:8443"}]
    runtime: Runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    runtime.public_url = "https://fleetsim.example.com/"
    assert spec(api)["servers"] == [{"url": "https://fleetsim.example.com"}]


def test_device_and_control_operations_carry_their_declared_parameters(api: Api) -> None:
    paths = spec(api)["paths"]
    data = paths["/devices/{Sim}/data"]["post"]
    assert data["operationId"] == "UseDeviceData"
    assert data["parameters"] == [
        {"name": "Sim", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    form = data["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["properties"]) == {"Upload", "Download", "Over"}
    assert form["properties"]["Upload"]["minimum"] == 0
    inbox = paths["/devices/{Sim}/inbox"]["get"]
    assert {p["name"] for p in inbox["parameters"]} == {
        "Sim",
        "After",
        "PageSize",
        "Page",
        "PageToken",
    }
    advance = paths["/control/clock/advance"]["post"]
    assert advance["security"] == [{"operator": []}]
    assert advance["summary"] == "Seconds=… or To=…: run what falls due"
    form = advance["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["properties"]) == {"Seconds", "To"}
    progress = paths["/control/lifecycles/{Lifecycle}/{Sid}/progress"]["post"]
    assert [p["name"] for p in progress["parameters"]] == ["Lifecycle", "Sid"]
    assert "security" not in paths["/health"]["get"]
    download = paths["/esim/{Eid}/download"]["post"]
    assert download["operationId"] == "DownloadESimProfile"
    assert download["security"] == [{"accountSid_authToken": []}]
    assert [p["name"] for p in download["parameters"]] == ["Eid"]
    form = download["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["properties"]) == {"MatchingId"}
    keys = paths["/2010-04-01/Accounts/{AccountSid}/Keys.json"]["get"]
    assert keys["tags"] == ["Accounts API (Twilio 2010 subset, described by fleetsim)"]
    assert {p["name"] for p in keys["parameters"]} >= {"AccountSid", "PageSize"}
    # The provisioning module's summary lines, continued on indented lines.
    schedule = paths["/control/settings-updates"]["post"]
    assert schedule["security"] == [{"operator": []}]
    assert schedule["summary"].endswith("schedule an over-the-air update (waits for the device)")
    form = schedule["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["properties"]) == {"Sim", "Fleet", "Package", "Version", "Outcome"}
    failure = paths["/control/esim/profiles/{Sid}/failure"]["post"]
    form = failure["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["properties"]) == {"ErrorCode", "ErrorMessage"}
    stock = paths["/control/esim/stock"]
    assert set(stock) == {"get", "post"}
    form = stock["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert set(form["schema"]["properties"]) == {"Remaining"}


def test_a_route_added_to_the_app_appears_in_the_document(api: Api) -> None:
    op = device_operation(
        "ShakeDevice", "POST", "/devices/{Sim}/shake", Param("Times", "form", True, "integer")
    )

    @endpoint(op)
    def shake(call: Call) -> Reply:
        return call.ok({})

    api.client.app.routes.append(Route(op.path, shake, methods=["POST"], name=op.id))  # type: ignore[attr-defined]
    doc = spec(api)
    validate(doc)
    described = doc["paths"]["/devices/{Sim}/shake"]["post"]
    assert described["operationId"] == "ShakeDevice"
    form = described["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["Times"]


def test_the_coverage_page_lists_operations_and_deviations_from_code(api: Api) -> None:
    response = api.client.get("/openapi/coverage")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = html.unescape(response.text)
    implemented = sum(
        1
        for r in api.client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, Route) and r.name in operations()
    )
    assert f"Super SIM v1: {implemented} of {len(operations())} operations implemented" in page
    assert "<td>/v1/ESimProfiles</td><td>CreateEsimProfile</td><td>implemented</td>" in page
    assert "<td>/v1/SettingsUpdates</td><td>ListSettingsUpdate</td><td>implemented</td>" in page
    assert "<td>/esim/{Eid}/install</td>" in page
    assert "<td>/2010-04-01/Accounts.json</td>" in page
    assert "<td>/control/settings-updates</td>" in page
    assert "/console" not in page
    assert "<td>/v1/Sims/{Sid}</td><td>UpdateSim</td><td>implemented</td>" in page
    assert "<td>/devices/{Sim}/attach</td>" in page
    found = deviations()
    assert f"Documented deviations from Twilio ({len(found)})" in page
    where = {d.where for d in found}
    assert {"fleetsim.core.errors", "fleetsim.network.networks:list_networks"} <= where
    for package in ("esim_profiles", "settings_updates", "accounts"):
        assert any(w.startswith(f"fleetsim.resources.{package}.") for w in where), package
    for deviation in found:
        assert deviation.text.startswith("Deviation"), deviation
        assert deviation.text in page


def test_the_sources_are_read_for_deviations_once_per_process() -> None:
    # Parsing every module takes a few hundred milliseconds, which each request for the
    # coverage page held the event loop for.
    assert deviations() is deviations()


def _check_answer(doc: dict[str, Any], method: str, path: str, body: Any) -> None:
    """`body` has exactly the fields the document says `method path` answers (recursively
    through references), each of the documented type or null where documented nullable."""
    operation = doc["paths"][path][method.lower()]
    schema = operation["responses"]["2XX"]["content"]["application/json"]["schema"]
    _conforms(doc, schema, body, f"{method} {path}")


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(doc, doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_resolve(doc, part).get("properties", {}))
        return merged
    return schema


def _conforms(doc: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> None:
    resolved = _resolve(doc, schema)
    if value is None:
        nullable = schema.get("nullable") or resolved.get("nullable")
        assert nullable, f"{where}: null where the document says not nullable"
        return
    python = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "object": dict,
        "array": list,
    }
    if "type" in resolved:
        assert isinstance(value, python[resolved["type"]]), f"{where}: {value!r} no {resolved}"
    if "enum" in resolved:
        assert value in resolved["enum"], f"{where}: {value!r} not in {resolved['enum']}"
    properties = resolved.get("properties")
    if properties:
        assert set(value) == set(properties), f"{where}: {sorted(value)} != {sorted(properties)}"
        for name, inner in properties.items():
            _conforms(doc, inner, value[name], f"{where}.{name}")
    if resolved.get("type") == "array":
        for item in value:
            _conforms(doc, resolved["items"], item, f"{where}[]")


def test_the_device_apis_answers_are_described_field_by_field(api: Api) -> None:
    doc = spec(api)
    sim = connectable_sim(api)
    path = "/devices/{Sim}"

    rejected = api.post(f"/devices/{sim.sid}/attach", data={"Network": sim.other_network_sid})
    _check_answer(doc, "POST", f"{path}/attach", rejected.json())
    assert rejected.json()["rejection"]["code"] == 83702
    _check_answer(doc, "POST", f"{path}/attach", attach(api, sim.sid, sim.network_sids[0]))
    _check_answer(doc, "GET", path, api.get(f"/devices/{sim.sid}").json())
    used = api.post(f"/devices/{sim.sid}/data", data={"Upload": "10", "Download": "20"})
    _check_answer(doc, "POST", f"{path}/data", used.json())
    sms = api.post(f"/devices/{sim.sid}/sms", data={"To": "000", "Body": "hi"})
    _check_answer(doc, "POST", f"{path}/sms", sms.json())
    udp = api.post(f"/devices/{sim.sid}/udp", data={"SourcePort": "4000", "Text": "hi"})
    _check_answer(doc, "POST", f"{path}/udp", udp.json())
    bound = api.post(f"/devices/{sim.sid}/udp-binding", data={"Port": "9999"})
    _check_answer(doc, "POST", f"{path}/udp-binding", bound.json())
    _check_answer(
        doc, "DELETE", f"{path}/udp-binding", api.delete(f"/devices/{sim.sid}/udp-binding").json()
    )
    assert api.post("/v1/SmsCommands", data={"Sim": sim.sid, "Payload": "x"}).status_code == 201
    advance(api, 5)
    inbox = api.get(f"/devices/{sim.sid}/inbox").json()
    assert inbox["messages"]
    _check_answer(doc, "GET", f"{path}/inbox", inbox)
    _check_answer(doc, "GET", f"{path}/events", api.get(f"/devices/{sim.sid}/events").json())
    _check_answer(doc, "POST", f"{path}/detach", api.post(f"/devices/{sim.sid}/detach").json())


def test_every_control_route_has_its_answer_described() -> None:
    routes = [*CONTROL_ROUTES, *PROVISIONING_ROUTES]
    missing = [
        f"{method} {r.path}"
        for r in routes
        for method in sorted(r.methods or ())
        if method != "HEAD" and control_answer(method, r.path) is None
    ]
    assert missing == []


def test_the_control_apis_answers_are_described_field_by_field(api: Api) -> None:
    doc = spec(api)
    sim = connectable_sim(api)

    def check(method: str, path: str, data: dict[str, str] | None = None, **values: str) -> Any:
        response = api.control(method, path.format(**values), data)
        assert response.status_code == 200, response.text
        _check_answer(doc, method, path, response.json())
        return response.json()

    check("GET", "/control/clock")
    check("POST", "/control/sids/seed", {"Seed": "7"})
    check("GET", "/control/policies")
    check("POST", "/control/policies/{Lifecycle}", {"Policy": "manual"}, Lifecycle="sim")
    changed = api.post(
        f"/v1/Sims/{sim.sid}", data={"Status": "inactive", "CallbackUrl": "http://x.test/cb"}
    )
    assert changed.status_code == 202, changed.text
    path = "/control/lifecycles/{Lifecycle}/{Sid}/progress"
    check("POST", path, Lifecycle="sim", Sid=sim.sid)
    check("POST", "/control/clock/advance", {"Seconds": "1"})
    check("GET", "/control/jobs")
    (delivery,) = check("GET", "/control/webhooks")["webhooks"]
    check("GET", "/control/webhooks/{Id}", Id=str(delivery["id"]))
    check("POST", "/control/webhooks/{Id}/redeliver", Id=str(delivery["id"]))
    sink = "/control/accounts/{AccountSid}/event-sink"
    check("POST", sink, {"Url": "http://x.test/events"}, AccountSid=api.creds.account_sid)
    check("GET", "/control/esim/stock")
    check("POST", "/control/esim/stock", {"Remaining": "9"})
    profile = api.post("/v1/ESimProfiles", data={"Eid": "8" * 32})
    assert profile.status_code == 201, profile.text
    failure = "/control/esim/profiles/{Sid}/failure"
    check("POST", failure, {"ErrorCode": "x"}, Sid=profile.json()["sid"])
    update = {"Sim": sim.sid, "Package": "apn", "Version": "2.0.0"}
    check("POST", "/control/settings-updates", update)
    check("POST", "/control/reset")
