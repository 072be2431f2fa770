"""fleetsim's own OpenAPI document, read off the route table.

    GET /openapi.json        the document; `servers` is this server as the client reached
                             it (or the configured public URL)
    GET /openapi/coverage    implemented operations against the spec's, and deviations

A route made by `@endpoint` for one of the contract's operations is described by the
contract itself (the document the server validates requests against), with Twilio's error
body added for 4XX answers. fleetsim's own device operations (`device_operation()`) are
described from their declared parameters, as are the SM-DP+'s (`smdp_operation()`) and the
subset of Twilio's 2010 Accounts API (its spec is not in the contract, so those operations
are described like fleetsim's own, under their own tag); the control API's from its route
templates and the control modules' summary lines (`METHOD /path   Name=…: summary`, indented
lines continuing it). Nothing here is a hand-kept list of operations: a route added to the
app appears in the document, and in the coverage page, without more work.

The web console (every route whose endpoint is in `fleetsim.console`, and its static files'
Mount) is left out: it is an HTML user interface for people, not an API a client calls.
/health, /metrics and the two /openapi routes are described, under the Service tag.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fleetsim.api.devices.wire import ANSWER_SCHEMAS
from fleetsim.contract import Location, Operation, Param, document, operations
from fleetsim.control import provisioning as control_provisioning
from fleetsim.control import routes as control_routes
from fleetsim.control.answers import CONTROL_SCHEMAS, control_answer
from fleetsim.http.endpoint import operation_of
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls

__all__ = ["RouteOperation", "openapi_document", "openapi_json", "route_operations"]

TWILIO_TAG = "Super SIM v1 (Twilio-compatible)"
DEVICE_TAG = "Device API (fleetsim)"
CONTROL_TAG = "Control API (fleetsim)"
ACCOUNTS_TAG = "Accounts API (Twilio 2010 subset, described by fleetsim)"
SERVICE_TAG = "Service"
KORE_TAG = "KORE APIs: token, API clients, webhook secrets (described by fleetsim)"

ERROR_SCHEMA = "fleetsim.twilio_error"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
_ERROR_RESPONSE = {
    "description": "Twilio's error body: a code (https://www.twilio.com/docs/errors) and a message",
    "content": {"application/json": {"schema": _ERROR_REF}},
}
KORE_ERROR_SCHEMA = "fleetsim.kore_management_error"
_KORE_ERROR_RESPONSE = {
    "description": "The error body of KORE's management APIs (its `ApiErrorResponse`): a "
    "code and a message, `info` on KORE's documentation",
    "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{KORE_ERROR_SCHEMA}"}}
    },
}
_ACCOUNT_SECURITY: list[dict[str, list[str]]] = [{"accountSid_authToken": []}]
_OPERATOR_SECURITY: list[dict[str, list[str]]] = [{"operator": []}]
# KORE's dialect: a Bearer token from the token endpoint (see docs/kore.md).
_KORE_SECURITY: list[dict[str, list[str]]] = [{"kore_oauth": []}]
_METHODS = ("GET", "POST", "PATCH", "DELETE")
_KORE_MODULES = ("fleetsim.resources.api_clients.", "fleetsim.resources.webhook_secrets.")
_PUBLIC_KORE_ROUTES = ("kore:token", "kore:ping")
_CONSOLE_MODULE = "fleetsim.console"
_ACCOUNTS_PREFIX = "/2010-04-01/"
# The modules whose docstrings hold the control routes' summary lines.
_CONTROL_DOCS = (control_routes.__doc__ or "", control_provisioning.__doc__ or "")


@dataclass(frozen=True)
class RouteOperation:
    """One method of one route of the app, as the document describes it."""

    id: str
    method: str
    path: str
    tag: str
    # The contract's operation (Twilio-compatible) or fleetsim's own, when `@endpoint` made it.
    operation: Operation | None
    summary: str


def route_operations(routes: Sequence[BaseRoute]) -> Iterator[RouteOperation]:
    """Every (route, method) of the app, classified by what declares it."""
    contract = operations()
    for route in routes:
        if not isinstance(route, Route) or is_console(route):
            continue
        methods = [m for m in _METHODS if m in (route.methods or ())]
        op = operation_of(route.endpoint)
        for method in methods:
            if op is not None:
                twilio = contract.get(op.id) is op
                yield RouteOperation(
                    op.id,
                    method,
                    route.path,
                    TWILIO_TAG if twilio else _own_tag(route.path),
                    op,
                    _first_line(route.endpoint.__doc__),
                )
                continue
            control = route.path.startswith("/control/")
            module = getattr(route.endpoint, "__module__", "") or ""
            kore = module.startswith(_KORE_MODULES)
            name = route.name if len(methods) == 1 else f"{route.name}:{method.lower()}"
            summary = _control_summary(method, route.path) if control else ""
            yield RouteOperation(
                name,
                method,
                route.path,
                CONTROL_TAG if control else KORE_TAG if kore else SERVICE_TAG,
                None,
                summary or _first_line(route.endpoint.__doc__),
            )


def is_console(route: Route) -> bool:
    """A page of the web console (HTML for people, not API): not in the document."""
    module: str = getattr(route.endpoint, "__module__", "") or ""
    return module == _CONSOLE_MODULE or module.startswith(_CONSOLE_MODULE + ".")


def _own_tag(path: str) -> str:
    return ACCOUNTS_TAG if path.startswith(_ACCOUNTS_PREFIX) else DEVICE_TAG


def openapi_document(routes: Sequence[BaseRoute], server_url: str) -> dict[str, Any]:
    contract = document()
    paths: dict[str, dict[str, Any]] = {}
    for entry in route_operations(routes):
        paths.setdefault(entry.path, {})[entry.method.lower()] = _describe(contract, entry)
    components = copy.deepcopy(contract["components"])
    components["schemas"].update(copy.deepcopy(ANSWER_SCHEMAS))
    components["schemas"].update(copy.deepcopy(CONTROL_SCHEMAS))
    components["schemas"][ERROR_SCHEMA] = _error_schema("code", "message", "more_info", "status")
    components["schemas"][KORE_ERROR_SCHEMA] = _error_schema("status", "code", "message", "info")
    components["securitySchemes"]["operator"] = {
        "type": "http",
        "scheme": "basic",
        "description": "user `operator`, password the operator token (FLEETSIM_OPERATOR_TOKEN)",
    }
    components["securitySchemes"]["kore_oauth"] = {
        "type": "oauth2",
        "description": "KORE's dialect: a Bearer token for an API client's credentials",
        "flows": {"clientCredentials": {"tokenUrl": "/api-services/v1/auth/token", "scopes": {}}},
    }
    return {
        "openapi": contract["openapi"],
        "info": {
            "title": "fleetsim",
            "version": version("fleetsim"),
            "description": (
                "A stateful Super SIM v1 API with a simulated network. The Twilio-compatible "
                f"operations come from Twilio's spec {contract['info']['version']} (Apache-2.0); "
                "see /openapi/coverage for what is implemented and where fleetsim deviates."
            ),
            "license": contract["info"]["license"],
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": tag}
            for tag in (TWILIO_TAG, KORE_TAG, ACCOUNTS_TAG, DEVICE_TAG, CONTROL_TAG, SERVICE_TAG)
        ],
        "paths": paths,
        "components": components,
    }


def _error_schema(*fields: str) -> dict[str, Any]:
    """An error body of these fields, all required: the code and status integers, the
    message a string, and the documentation link (the rest) a URL."""
    types = {
        "code": {"type": "integer"},
        "status": {"type": "integer"},
        "message": {"type": "string"},
    }
    properties = {name: types.get(name, {"type": "string", "format": "uri"}) for name in fields}
    return {"type": "object", "required": list(fields), "properties": properties}


def _describe(contract: dict[str, Any], entry: RouteOperation) -> dict[str, Any]:
    if entry.tag == TWILIO_TAG:
        spec: dict[str, Any] = copy.deepcopy(contract["paths"][entry.path][entry.method.lower()])
        spec["responses"]["4XX"] = _ERROR_RESPONSE
        spec["tags"] = [entry.tag]
        spec["security"] = [*spec.get("security", _ACCOUNT_SECURITY), *_KORE_SECURITY]
        return spec
    if entry.operation is not None:
        return _own_operation(entry.operation, entry)
    params = [_path_param(name) for name in re.findall(r"{(\w+)}", entry.path)]
    location: Location = "query" if entry.method == "GET" else "form"
    for name in _control_params(entry.summary):
        params.append(Param(name, location, False, "string"))
    described = _own_operation(
        Operation(entry.id, entry.method, entry.path, {p.name: p for p in params}), entry
    )
    if entry.tag == SERVICE_TAG:
        described.pop("security")
        described["responses"].pop("4XX")
    answer = control_answer(entry.method, entry.path) if entry.tag == CONTROL_TAG else None
    if answer is not None:
        content = described["responses"]["2XX"]["content"]["application/json"]
        content["schema"] = copy.deepcopy(answer)
    if entry.tag == KORE_TAG:
        public = entry.id in _PUBLIC_KORE_ROUTES
        described["security"] = [] if public else [*_KORE_SECURITY, *_ACCOUNT_SECURITY]
        if entry.id == "kore:token":
            described["responses"].pop("4XX")  # OAuth's error body (docs/kore.md)
        elif "4XX" in described["responses"]:
            described["responses"]["4XX"] = _KORE_ERROR_RESPONSE
    return described


def _own_operation(op: Operation, entry: RouteOperation) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": entry.id,
        "tags": [entry.tag],
        "security": _OPERATOR_SECURITY if entry.tag == CONTROL_TAG else _ACCOUNT_SECURITY,
    }
    if entry.summary:
        described["summary"] = entry.summary
    in_url = [p for p in op.params.values() if p.location != "form"]
    if in_url:
        described["parameters"] = [
            {"name": p.name, "in": p.location, "required": p.required, "schema": _schema(p)}
            for p in in_url
        ]
    form = [p for p in op.params.values() if p.location == "form"]
    if form:
        body: dict[str, Any] = {
            "type": "object",
            "properties": {p.name: _schema(p) for p in form},
        }
        required = [p.name for p in form if p.required]
        if required:
            body["required"] = required
        described["requestBody"] = {
            "content": {"application/x-www-form-urlencoded": {"schema": body}}
        }
    item: dict[str, Any] = (
        {"$ref": f"#/components/schemas/{op.item_schema}"} if op.item_schema else {"type": "object"}
    )
    result: dict[str, Any] = item
    if op.list_key:
        result = {
            "type": "object",
            "properties": {
                op.list_key: {"type": "array", "items": item},
                "meta": {"type": "object"},
            },
        }
    described["responses"] = {
        "2XX": {"description": "OK", "content": {"application/json": {"schema": result}}},
        "4XX": _ERROR_RESPONSE,
    }
    return described


def _schema(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": param.type}
    if param.type == "array":
        schema["items"] = {"type": "string"}
    if param.enum:
        schema["enum"] = list(param.enum)
    if param.format:
        schema["format"] = param.format
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    return schema


def _path_param(name: str) -> Param:
    return Param(name, "path", True, "string")


def _control_summary(method: str, path: str) -> str:
    """The control modules' summary of `method path`, if they have one: its line and the
    more indented lines that continue it."""
    for doc in _CONTROL_DOCS:
        lines = doc.splitlines()
        for at, line in enumerate(lines):
            words = line.split(maxsplit=2)
            if len(words) == 3 and words[0] == method and words[1] == path:
                indent = line.index(words[2])
                parts = [words[2].strip()]
                for more in lines[at + 1 :]:
                    if not more.strip() or len(more) - len(more.lstrip()) < indent:
                        break
                    parts.append(more.strip())
                return " ".join(parts)
    return ""


def _control_params(summary: str) -> list[str]:
    # Summaries name their parameters as `Name=…` (e.g. "Seconds=… or To=…").
    return list(dict.fromkeys(re.findall(r"\b([A-Z][A-Za-z]*)=", summary)))


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n", 1)[0]


async def openapi_json(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    server = Urls.for_request(request, runtime.public_url).base
    return JSONResponse(openapi_document(request.app.routes, server))
