"""Reading a request from its ASGI scope: Basic credentials, the query, the form body.

Each is read here once, for the API's endpoints, the console and the control API alike,
straight from the scope and the `receive` channel (a Starlette `Request` costs more to
build than these take to read).
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.types import Receive, Scope

from fleetsim.core.errors import AuthenticationFailed, PayloadTooLarge, UnsupportedMediaType
from fleetsim.http.params import parse_pairs

__all__ = [
    "basic_credentials",
    "credentials_from_header",
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


def credentials_from_header(value: str) -> tuple[str, str]:
    """Username and password of a Basic `Authorization` header; 401 when it is not one."""
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise AuthenticationFailed()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed() from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise AuthenticationFailed()
    return username, password


def basic_credentials(request: Request) -> tuple[str, str]:
    """The request's Basic credentials; 401 without them."""
    return credentials_from_header(request.headers.get("authorization", ""))


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


async def read_scope_form(scope: Scope, receive: Receive, limit: int) -> list[tuple[str, str]]:
    """The form body as pairs; 413 past `limit` bytes, 415 for other content types."""
    content_type = (header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
    if content_type not in _FORM_TYPES:
        raise UnsupportedMediaType(
            "Send parameters form-encoded (Content-Type: application/x-www-form-urlencoded)"
        )
    return parse_pairs(await read_body(scope, receive, limit))


async def read_form(request: Request, limit: int = 64 * 1024) -> list[tuple[str, str]]:
    """`read_scope_form` of a Starlette request (the console's and control API's)."""
    return await read_scope_form(request.scope, request.receive, limit)
