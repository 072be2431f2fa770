"""Reading a request from its ASGI scope: a header, the form body (or a JSON object's).

Each is read here once, for the API's endpoints, the console and the control API alike,
straight from the scope and the `receive` channel (a Starlette `Request` costs more to
build than these take to read).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Receive, Scope

from fleetsim.core.errors import PayloadTooLarge, UnsupportedMediaType
from fleetsim.http.params import json_pairs, parse_pairs

__all__ = [
    "header",
    "read_body",
    "read_form",
    "read_scope_form",
]

_FORM_TYPES = (b"", b"application/x-www-form-urlencoded")


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body; 413 past `limit` bytes (declared or sent)."""
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body larger than {limit} bytes")
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: what came is all there is
        body += message.get("body", b"")
        if len(body) > limit:
            raise PayloadTooLarge(f"Request body larger than {limit} bytes")
        if not message.get("more_body", False):
            break
    return bytes(body)


async def read_scope_form(
    scope: Scope, receive: Receive, limit: int, *, json_bodies: bool = False
) -> list[tuple[str, str]]:
    """The form body as pairs (with `json_bodies`, a JSON object's too, as KORE's clients
    send them); 413 past `limit` bytes, 415 for other content types."""
    content_type = (header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
    is_json = json_bodies and content_type == b"application/json"
    if content_type not in _FORM_TYPES and not is_json:
        raise UnsupportedMediaType(
            "Send parameters form-encoded (Content-Type: application/x-www-form-urlencoded)"
            + (" or as a JSON object (Content-Type: application/json)" if json_bodies else "")
        )
    body = await read_body(scope, receive, limit)
    return json_pairs(body) if is_json else parse_pairs(body)


async def read_form(request: Request, limit: int = 64 * 1024) -> list[tuple[str, str]]:
    """`read_scope_form` of a Starlette request (the console's, the control API's)."""
    return await read_scope_form(request.scope, request.receive, limit)
