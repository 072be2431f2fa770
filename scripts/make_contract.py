"""Vendor the Super SIM v1 contract from ``../shared`` into the repository.

fleetsim must not read ``../shared`` at run time or in tests: that directory sits beside
the checkout, not inside it, so a wheel, a CI runner or a fresh clone would not have it.
This script copies in the parts we build and test against, in a form that diffs well:

``src/fleetsim/contract/supersim_v1.json``
    Twilio's OpenAPI 3 document for Super SIM v1 (twilio/twilio-oai, Apache-2.0) with its
    prose removed (``description``, ``summary``, ``tags``, ``x-twilio`` CLI hints, contact
    details...) and its structure kept: paths, operations, parameters, request and
    response schemas, enums, patterns, SID formats, security. The prose is Twilio's
    documentation, not contract, and would make every upstream wording change a diff.

``tests/contract/fixture_shapes.json``
    The shapes (not the values) of the request/response pairs recorded by twilio-python's
    integration tests: which keys an instance, a list page and its ``meta`` carry, which
    nested objects appear, and which form/query keys each SDK call sends.

Both files are written with sorted keys and one-space indentation. Run it again when the
shared spec or fixtures change and review the diff::

    uv run python scripts/make_contract.py [--shared PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = (REPO_ROOT / ".." / "shared").resolve()

SPEC_NAME = "twilio_supersim_v1.json"
SPEC_SOURCE = Path("spec") / SPEC_NAME
FIXTURES_SOURCE = Path("reference") / "twilio-fixtures.json"
SPEC_OUT = REPO_ROOT / "src" / "fleetsim" / "contract" / "supersim_v1.json"
SHAPES_OUT = REPO_ROOT / "tests" / "contract" / "fixture_shapes.json"

APACHE_2 = "Apache-2.0"
APACHE_2_URL = "https://www.apache.org/licenses/LICENSE-2.0"

# Keywords that carry Twilio's prose or tooling hints rather than contract. `x-twilio` also
# holds pii-handling and CLI metadata (pathType, defaultOutputProperties, dependentProperties);
# none of it is enforced on the wire, so it goes as a whole.
PROSE_KEYS = frozenset(
    {
        "contact",
        "description",
        "externalDocs",
        "summary",
        "tags",
        "termsOfService",
        "x-twilio",
    }
)

# Objects whose keys are names chosen by the spec's author (a path, a field, a status code,
# a media type), not OpenAPI keywords: a property called "description" must survive.
NAME_MAPS = frozenset(
    {
        "callbacks",
        "content",
        "examples",
        "headers",
        "links",
        "mapping",
        "paths",
        "patternProperties",
        "properties",
        "responses",
        "schemas",
        "securitySchemes",
    }
)

HTTP_METHODS = frozenset({"delete", "get", "head", "options", "patch", "post", "put", "trace"})


REASON_PHRASES = frozenset(status.phrase for status in HTTPStatus)


def dump(doc: object) -> str:
    """Serialise the way every vendored file is written, so reruns diff cleanly."""
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def load(path: Path) -> Any:
    """Read a JSON file, failing with its path in the message."""
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"cannot read {path}: {exc}") from exc


# --- OpenAPI document -----------------------------------------------------------------------


def strip_prose(node: Any, *, names: bool = False) -> Any:
    """Return a copy of `node` without PROSE_KEYS; keys of a name map are never dropped."""
    if isinstance(node, list):
        return [strip_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: strip_prose(value) for key, value in node.items()}
    return {
        key: strip_prose(value, names=key in NAME_MAPS)
        for key, value in node.items()
        if key not in PROSE_KEYS
    }


def contract_document(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Build the vendored contract from Twilio's spec."""
    info = spec["info"]
    version = info["version"]
    licence = info.get("license", {})
    doc: dict[str, Any] = strip_prose({key: value for key, value in spec.items() if key != "info"})
    doc["info"] = {
        "title": "fleetsim contract derived from Twilio Super SIM v1",
        "version": version,
        "license": {"name": "Apache 2.0", "url": licence.get("url", APACHE_2_URL)},
    }
    # OpenAPI requires a description on every response: give the HTTP reason phrase,
    # which is not Twilio's prose, so that validators (and fuzzers) accept the document.
    for _path, _method, operation in operations(doc):
        for status, response in operation.get("responses", {}).items():
            response["description"] = HTTPStatus(int(status)).phrase
    doc["x-fleetsim-source"] = {
        "repository": "twilio/twilio-oai",
        "file": f"spec/json/{SPEC_NAME}",
        "version": version,
        "license": {"name": APACHE_2, "url": APACHE_2_URL},
        "modifications": "Twilio's prose and x-twilio tooling hints removed; structure unchanged.",
    }
    return doc


def operations(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """Yield (path, method, operation) for every operation in the document."""
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def walk(node: Any, *, names: bool = False) -> Iterator[tuple[str, Any]]:
    """Yield every (keyword, value) pair in the document, skipping keys of name maps."""
    if isinstance(node, list):
        for item in node:
            yield from walk(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if not names:
                yield key, value
            yield from walk(value, names=not names and key in NAME_MAPS)


def check_document(original: Mapping[str, Any], doc: Mapping[str, Any]) -> list[str]:
    """Return problems: prose left behind, operations lost, or $refs that do not resolve."""
    problems = [
        f"prose keyword left: {key}"
        for key, value in walk(doc)
        if key in PROSE_KEYS and not (key == "description" and value in REASON_PHRASES)
    ]
    before = {(path, method, op.get("operationId")) for path, method, op in operations(original)}
    after = {(path, method, op.get("operationId")) for path, method, op in operations(doc)}
    problems += [f"operation lost: {method.upper()} {path}" for path, method, _ in before - after]
    problems += [
        f"unresolved $ref: {value}"
        for key, value in walk(doc)
        if key == "$ref" and not resolves(doc, value)
    ]
    return problems


def resolves(doc: Mapping[str, Any], ref: str) -> bool:
    """Whether a local JSON pointer such as ``#/components/schemas/x`` names a node in `doc`."""
    if not ref.startswith("#/"):
        return False
    node: Any = doc
    for part in ref[2:].split("/"):
        name = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or name not in node:
            return False
        node = node[name]
    return True


# --- Fixture shapes -------------------------------------------------------------------------


def sorted_keys(mapping: Mapping[str, Any] | None) -> list[str]:
    """Sorted keys of a mapping; an absent mapping has none."""
    return sorted(mapping or {})


def nested_shapes(instance: Mapping[str, Any]) -> dict[str, list[str]]:
    """Keys of each object field, and of the first element of each array-of-objects field."""
    nested: dict[str, list[str]] = {}
    for field, value in instance.items():
        if isinstance(value, dict):
            nested[field] = sorted(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            nested[field] = sorted(value[0])
    return nested


def response_shape(case: Mapping[str, Any]) -> dict[str, Any]:
    """Describe one 2xx response: an instance, a list page, or no body at all (kind "empty")."""
    status = case["response"]["status"]
    body = case["response"]["body"]
    shape: dict[str, Any] = {
        "resource": case["resource"],
        "test": case["test"],
        "operation": case["operation"],
        "status": status,
        "kind": "empty",
        "keys": None,
        "list_key": None,
        "meta_keys": None,
        "nested": {},
    }
    if body is None:
        return shape
    if isinstance(body.get("meta"), dict) and "key" in body["meta"]:
        list_key = body["meta"]["key"]
        items = body[list_key]
        first = items[0] if items else None
        extra = sorted(set(body) - {"meta", list_key})
        if extra:
            raise SystemExit(f"{case['test']}: unexpected list page keys {extra}")
        shape.update(
            kind="list",
            keys=sorted(first) if first is not None else None,
            list_key=list_key,
            meta_keys=sorted(body["meta"]),
            nested=nested_shapes(first) if first is not None else {},
        )
        return shape
    shape.update(kind="instance", keys=sorted(body), nested=nested_shapes(body))
    return shape


def request_shape(case: Mapping[str, Any]) -> dict[str, Any]:
    """Describe the request an SDK call sent: method, path and the names of its parameters."""
    request = case["request"]
    return {
        "resource": case["resource"],
        "test": case["test"],
        "operation": case["operation"],
        "method": request["method"],
        "path": request["path"],
        "data_keys": sorted_keys(request.get("data")),
        "params_keys": sorted_keys(request.get("params")),
    }


def fixture_shapes(fixtures: Mapping[str, Any]) -> dict[str, Any]:
    """Build the shapes file from the recorded twilio-python test cases."""
    cases: Iterable[Mapping[str, Any]] = fixtures["cases"]
    responses: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    for case in cases:
        response = case.get("response")
        if response is not None and 200 <= response["status"] < 300:
            responses.append(response_shape(case))
        if case["test"].endswith("_request"):
            if case.get("request") is None:
                raise SystemExit(f"{case['resource']} {case['test']}: request case has no request")
            requests.append(request_shape(case))
    return {
        "source": {
            "name": fixtures.get("source"),
            "repository": fixtures["repository"],
            "commit": fixtures["commit"],
            "license": APACHE_2,
        },
        "responses": responses,
        "requests": requests,
    }


# --- Entry point ----------------------------------------------------------------------------


def write(path: Path, doc: object) -> None:
    """Write `doc` to `path`, creating its directory (and nothing else) if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(doc), encoding="utf-8")
    print(f"wrote {path.relative_to(REPO_ROOT)} ({path.stat().st_size} bytes)")


def main(argv: list[str] | None = None) -> int:
    """Regenerate both vendored files from the shared spec and fixtures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help=f"directory holding spec/ and reference/ (default: {DEFAULT_SHARED})",
    )
    args = parser.parse_args(argv)
    shared: Path = args.shared.resolve()

    spec = load(shared / SPEC_SOURCE)
    doc = contract_document(spec)
    problems = check_document(spec, doc)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    shapes = fixture_shapes(load(shared / FIXTURES_SOURCE))

    write(SPEC_OUT, doc)
    write(SHAPES_OUT, shapes)
    print(f"{sum(1 for _ in operations(doc))} operations in {len(doc['paths'])} paths")
    return 0


if __name__ == "__main__":
    sys.exit(main())
