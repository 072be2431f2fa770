"""The shape of KORE's management APIs (API clients, webhook secrets): JSON in, JSON out.

Like `fleetsim.http.endpoint`, a handler is a plain function of a call; `json_endpoint`
authenticates it through `authenticate_request` (a Bearer token, or the account's Basic
credentials), reads a JSON object body for POST and PATCH, runs the handler in one unit of
work and renders its reply. Errors are the one error tree's, in these APIs' own body
(`TwilioError.management_body`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fleetsim.core.clock import Clock
from fleetsim.core.dialect import dialect_of
from fleetsim.core.errors import InvalidParameter, NotFound, TwilioError, UnsupportedMediaType
from fleetsim.core.sids import SidFactory
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account
from fleetsim.http.commit import run_unit
from fleetsim.http.credentials import authenticate_request
from fleetsim.http.endpoint import Reply, error_headers
from fleetsim.http.params import json_object, parse_pairs
from fleetsim.http.request import read_body
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls

__all__ = ["JsonCall", "json_endpoint", "numbered_page"]

MAX_PAGE_SIZE = 100


@dataclass
class JsonCall:
    session: Session
    account: Account
    body: dict[str, Any]
    query: Sequence[tuple[str, str]]
    path: dict[str, str]
    urls: Urls
    clock: Clock
    sids: SidFactory

    def query_value(self, name: str) -> str | None:
        values = [value for key, value in self.query if key == name]
        if len(values) > 1:
            raise InvalidParameter(name, "given more than once")
        return values[0] if values else None


def numbered_page(call: JsonCall, *, default_size: int) -> tuple[int, int]:
    """KORE's `page_number` (from 1) and `page_size` (1 to 100) of a list request."""
    numbers = []
    for name, default, high in (
        ("page_number", 1, 2**31 - 1),
        ("page_size", default_size, MAX_PAGE_SIZE),
    ):
        raw = call.query_value(name)
        if raw is None:
            numbers.append(default)
            continue
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= high):
            raise InvalidParameter(name, f"must be a whole number from 1 to {high}")
        numbers.append(int(raw))
    return numbers[0], numbers[1]


JsonHandler = Callable[[JsonCall], Reply]


def json_endpoint(*, api_keys: bool = True) -> Callable[[JsonHandler], Callable[..., Any]]:
    """Make `handler` a route of a KORE management API; with `api_keys` False, API keys
    are refused (403), as in the Accounts API."""

    def decorate(handler: JsonHandler) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            try:
                reply = await answer(request)
            except TwilioError as error:
                headers = error_headers(error, dialect_of(request.headers.get("authorization")))
                body = error.management_body()
                return JSONResponse(body, status_code=error.status, headers=headers)
            if reply.body is None:
                return Response(status_code=reply.status)
            return JSONResponse(reply.body, status_code=reply.status)

        async def answer(request: Request) -> Reply:
            runtime: Runtime = request.app.state.runtime
            authorization = request.headers.get("authorization")
            query = parse_pairs(request.scope.get("query_string", b""))
            body: dict[str, Any] = {}
            if request.method in ("POST", "PATCH"):
                content_type = request.headers.get("content-type", "").split(";")[0].strip()
                if content_type.lower() != "application/json":
                    raise UnsupportedMediaType(
                        "Send a JSON object (Content-Type: application/json)"
                    )
                limit = runtime.max_body_bytes
                body = json_object(await read_body(request.scope, request.receive, limit))
            urls = Urls.for_request(request, runtime.public_url)
            write = request.method != "GET"

            def work(tx: Tx) -> Reply:
                account, _dialect = authenticate_request(
                    tx, authorization, clock=runtime.clock, api_keys=api_keys
                )
                if any("\x00" in value for value in request.path_params.values()):
                    raise NotFound(request.url.path.replace("\x00", "%00"))
                call = JsonCall(
                    session=tx.session,
                    account=account,
                    body=body,
                    query=query,
                    path=dict(request.path_params),
                    urls=urls,
                    clock=runtime.clock,
                    sids=runtime.sids,
                )
                return handler(call)

            return await run_unit(runtime.engine, work, write=write)

        route.__name__ = handler.__name__
        route.__doc__ = handler.__doc__
        route.__module__ = handler.__module__  # the API it belongs to (see http.openapi)
        return route

    return decorate
