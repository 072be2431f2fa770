"""Parse form and query parameters against the contract.

Values arrive as PascalCase strings; they leave as typed Python values keyed by the same
names. Every check the spec can express (required, type, enum, bounds, format) happens
here, once, for every operation.

Deviations: Twilio's handling of repeated scalar parameters is undocumented; fleetsim
refuses them (400) rather than guess which value was meant. Unknown parameters are
ignored, as Twilio's product APIs do.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from fleetsim.contract import Operation, Param
from fleetsim.core.errors import BadRequest, InvalidParameter, MissingParameter, TwilioError

__all__ = ["MAX_VALUE_LENGTH", "json_object", "json_pairs", "parse_pairs", "parse_params"]

MAX_VALUE_LENGTH = 4096
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    """Decode `a=1&b=2` strictly: invalid percent-escapes or UTF-8 answer 400."""
    data = raw.encode("latin-1") if isinstance(raw, str) else raw
    pairs: list[tuple[str, str]] = []
    for chunk in data.split(b"&"):
        if not chunk:
            continue
        name, _, value = chunk.partition(b"=")
        pairs.append((_decode(name), _decode(value)))
    return pairs


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object body, strictly: bad UTF-8, bad JSON or another top-level value answer
    400."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("The request body must be UTF-8 encoded") from None
    except (ValueError, RecursionError):  # JSONDecodeError, or an integer too long to read
        raise BadRequest("The request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object")
    return value


def json_pairs(raw: bytes) -> list[tuple[str, str]]:
    """A JSON object of PascalCase parameters as the pairs its form would give: strings as
    they are, numbers and booleans as written in a form, arrays as repeated names, null
    as absent. Nested objects answer 400.

    Deviation: KORE documents form bodies only; some KORE clients send JSON, so KORE's
    dialect takes both."""
    pairs: list[tuple[str, str]] = []
    for name, value in json_object(raw).items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, bool):
                pairs.append((name, "true" if item else "false"))
            elif isinstance(item, str | int | float):
                pairs.append((name, str(item)))
            else:
                raise InvalidParameter(name, "must be a string, a number, a boolean or a list")
    return pairs


def _decode(part: bytes) -> str:
    if _BAD_ESCAPE.search(part):
        raise BadRequest("Malformed percent-encoding in the request parameters")
    try:
        return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("Request parameters must be UTF-8 encoded") from None


def parse_params(
    operation: Operation,
    pairs: Sequence[tuple[str, str]],
    *,
    location: str,
    on_missing: Callable[[str], TwilioError] | None = None,
) -> dict[str, Any]:
    """Typed values of the operation's `location` ("query" or "form") parameters."""
    given: dict[str, list[str]] = {}
    for name, value in pairs:
        given.setdefault(name, []).append(value)
    values: dict[str, Any] = {}
    for param in operation.params.values():
        if param.location != location:
            continue
        raw = given.get(param.name)
        if raw is None:
            if param.required:
                raise on_missing(param.name) if on_missing else MissingParameter(param.name)
            continue
        values[param.name] = _convert(param, raw)
    return values


def _convert(param: Param, raw: list[str]) -> Any:
    for value in raw:
        if "\x00" in value:
            raise InvalidParameter(param.name, "must not contain NUL characters")
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidParameter(param.name, f"longer than {MAX_VALUE_LENGTH} characters")
    if param.type == "array":
        return list(raw)
    if len(raw) > 1:
        raise InvalidParameter(param.name, "given more than once")
    value = raw[0]
    if param.type == "integer":
        return _integer(param, value)
    if param.type == "boolean":
        return _boolean(param, value)
    if param.format == "http-method":
        return _method(param, value)
    if param.enum is not None and value not in param.enum:
        raise InvalidParameter(param.name, f"must be one of {', '.join(param.enum)}")
    if param.format == "uri" and value:
        return _uri(param, value)
    if param.format == "date-time":
        return _datetime(param, value)
    return value


def _integer(param: Param, value: str) -> int:
    if not _INTEGER.match(value):
        raise InvalidParameter(param.name, "must be an integer")
    number = int(value)
    if param.minimum is not None and number < param.minimum:
        raise InvalidParameter(param.name, f"must be at least {param.minimum}")
    if param.maximum is not None and number > param.maximum:
        raise InvalidParameter(param.name, f"must be at most {param.maximum}")
    return number


def _boolean(param: Param, value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise InvalidParameter(param.name, "must be true or false")
    return lowered == "true"


def _method(param: Param, value: str) -> str:
    upper = value.upper()
    allowed = param.enum or ("GET", "POST")
    if upper not in allowed:
        raise InvalidParameter(param.name, f"must be one of {', '.join(allowed)}")
    return upper


def _uri(param: Param, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise InvalidParameter(param.name, "must be an absolute http or https URL")
    return value


def _datetime(param: Param, value: str) -> dt.datetime:
    if not _DATETIME.match(value):
        raise InvalidParameter(
            param.name, "must be an ISO 8601 date-time such as 2024-05-01T00:00:00Z"
        )
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(param.name, "is not a valid date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
