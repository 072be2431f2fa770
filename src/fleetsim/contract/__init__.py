"""The contract: Twilio's Super SIM v1 operations, parameters and schemas.

`supersim_v1.json` is made from Twilio's OpenAPI spec (Apache-2.0) by
`scripts/make_contract.py`, without Twilio's prose. Request parsing and response tests are
driven from it, so enums, required parameters and types cannot drift from the spec.

`kore/supersim_v1.json` is KORE's fork of it (Apache-2.0, `scripts/make_kore_contract.py`):
the same operations, parsed by the same code, with KORE's limits (`in_dialect`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from fleetsim.core.dialect import Dialect

__all__ = [
    "Operation",
    "Param",
    "document",
    "in_dialect",
    "operation",
    "operations",
    "schema_properties",
]

_DOCUMENTS = {Dialect.TWILIO: "supersim_v1.json", Dialect.KORE: "kore/supersim_v1.json"}

Location = Literal["path", "query", "form"]


@dataclass(frozen=True)
class Param:
    name: str
    location: Location
    required: bool
    type: str
    enum: tuple[str, ...] | None = None
    format: str | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    params: dict[str, Param] = field(default_factory=dict)
    statuses: tuple[int, ...] = ()
    # Component schema of the resource returned (of one item, for lists).
    item_schema: str | None = None
    # For list operations, the key under which the page's items are (`meta.key`).
    list_key: str | None = None


@cache
def document(dialect: Dialect = Dialect.TWILIO) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(_DOCUMENTS[dialect]).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved = dict(doc["components"]["schemas"][ref.rsplit("/", 1)[-1]])
    resolved.update({k: v for k, v in schema.items() if k != "$ref"})
    return resolved


def _param(
    name: str, location: Location, required: bool, schema: dict[str, Any], doc: dict[str, Any]
) -> Param:
    schema = _resolve(schema, doc)
    enum = schema.get("enum")
    return Param(
        name=name,
        location=location,
        required=required,
        type=schema.get("type", "string"),
        enum=tuple(enum) if enum else None,
        format=schema.get("format"),
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
    )


@cache
def operations(dialect: Dialect = Dialect.TWILIO) -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    doc = document(dialect)
    for path, item in doc["paths"].items():
        for method, spec in item.items():
            if method not in ("get", "post", "delete"):
                continue
            params: dict[str, Param] = {}
            for p in spec.get("parameters", []):
                params[p["name"]] = _param(
                    p["name"], p["in"], p.get("required", False), p["schema"], doc
                )
            body = (
                spec.get("requestBody", {})
                .get("content", {})
                .get("application/x-www-form-urlencoded", {})
                .get("schema", {})
            )
            required = set(body.get("required", []))
            for name, schema in body.get("properties", {}).items():
                params[name] = _param(name, "form", name in required, schema, doc)
            statuses = tuple(int(s) for s in spec["responses"])
            item_schema, list_key = _response_shape(spec["responses"])
            found[spec["operationId"]] = Operation(
                id=spec["operationId"],
                method=method.upper(),
                path=path,
                params=params,
                statuses=statuses,
                item_schema=item_schema,
                list_key=list_key,
            )
    return found


def _response_shape(responses: dict[str, Any]) -> tuple[str | None, str | None]:
    for response in responses.values():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if not schema:
            continue
        if "$ref" in schema:
            return schema["$ref"].rsplit("/", 1)[-1], None
        for key, prop in schema.get("properties", {}).items():
            if key != "meta" and prop.get("type") == "array":
                return prop["items"]["$ref"].rsplit("/", 1)[-1], key
    return None, None


def operation(operation_id: str) -> Operation:
    return operations()[operation_id]


def in_dialect(op: Operation, dialect: Dialect) -> Operation:
    """`op` as the dialect's document specifies it (KORE's `PageSize` limits); fleetsim's
    own operations are the same in both."""
    if dialect is Dialect.TWILIO:
        return op
    return operations(dialect).get(op.id, op)


def schema_properties(schema_name: str) -> dict[str, Any]:
    """The properties of a component schema."""
    props: dict[str, Any] = document()["components"]["schemas"][schema_name]["properties"]
    return props
