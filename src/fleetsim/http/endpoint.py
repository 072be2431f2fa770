"""The shape of every API handler: parse, call one service function, render.

A handler is a plain function of a `Call`; `endpoint` turns it into a Starlette route that
authenticates, parses parameters against the contract, runs the handler in one unit of
work in a worker thread, and renders the reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fleetsim.contract import Operation, in_dialect, operation
from fleetsim.core.clock import Clock
from fleetsim.core.dialect import Dialect, dialect_of
from fleetsim.core.errors import (
    NotFound,
    PayloadTooLarge,
    TwilioError,
    UnsupportedMediaType,
)
from fleetsim.core.paging import PAGING_PARAMETERS, PageRequest
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import is_sqlite
from fleetsim.db.paging import Page
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from fleetsim.http.direct import DirectHandler, register_direct
from fleetsim.http.params import json_pairs, parse_pairs, parse_params
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls, page_meta
from fleetsim.resources.accounts.credentials import authenticate_request

__all__ = ["Call", "Reply", "endpoint", "operation_of", "read_body", "read_form"]

# The operation each endpoint implements, for the route table's readers (/openapi.json).
_OPERATIONS: dict[Callable[..., Any], Operation] = {}


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any] | None


@dataclass
class Call:
    """Everything a handler may use; nothing of the web framework leaks past it."""

    operation: Operation
    session: Session
    account: Account
    params: dict[str, Any]
    path: dict[str, str]
    query: Sequence[tuple[str, str]]
    form: Sequence[tuple[str, str]]
    urls: Urls
    clock: Clock
    sids: SidFactory
    dialect: Dialect = Dialect.TWILIO

    @property
    def page_request(self) -> PageRequest:
        return PageRequest.from_params(self.params)

    def ok(self, body: dict[str, Any], status: int = 200) -> Reply:
        return Reply(status, body)

    def created(self, body: dict[str, Any]) -> Reply:
        return Reply(201, body)

    def no_content(self) -> Reply:
        return Reply(204, None)

    def page(self, path: str, page: Page[Any], render: Callable[[Any], dict[str, Any]]) -> Reply:
        """A list reply: the items under `meta.key`, and the `meta` envelope."""
        key = self.operation.list_key
        assert key is not None, f"{self.operation.id} is not a list operation"
        known = {name for name, p in self.operation.params.items() if p.location == "query"}
        filters = [(k, v) for k, v in self.query if k in known and k not in PAGING_PARAMETERS]
        meta = page_meta(self.urls, path, key, filters, self.page_request, page)
        return Reply(200, {key: [render(item) for item in page.items], "meta": meta})


Handler = Callable[[Call], Reply]
Route = Callable[[Request], Awaitable[Response]]


def endpoint(
    operation_id: str | Operation,
    *,
    on_missing: Callable[[str], TwilioError] | None = None,
    api_keys: bool = True,
    direct: DirectHandler | None = None,
) -> Callable[[Handler], Route]:
    """Make `handler` the implementation of the contract's `operation_id` (or of one of
    fleetsim's own operations, given as an `Operation`); with `api_keys` False, API keys
    are refused (403). Bearer tokens (KORE's dialect) are taken by the contract's operations
    only. A `direct` handler may answer the plain successful case of a GET or
    POST without the ORM (see `fleetsim.http.direct`)."""
    op = operation(operation_id) if isinstance(operation_id, str) else operation_id
    write = op.method != "GET"
    bearer = isinstance(operation_id, str)

    def decorate(handler: Handler) -> Route:
        async def route(request: Request) -> Response:
            runtime: Runtime = request.app.state.runtime
            authorization = request.headers.get("authorization")
            kore = dialect_of(authorization) is Dialect.KORE
            query = parse_pairs(request.scope.get("query_string", b""))
            form = (
                await read_form(request, runtime.max_body_bytes, json_bodies=kore)
                if op.method == "POST"
                else []
            )
            urls = Urls.for_request(request, runtime.public_url)

            def work() -> Reply:
                with unit_of_work(runtime.engine, write=write) as session:
                    account, dialect = authenticate_request(
                        session,
                        authorization,
                        clock=runtime.clock,
                        api_keys=api_keys,
                        bearer=bearer,
                    )
                    if any("\x00" in value for value in request.path_params.values()):
                        # No SID or name holds NUL, and PostgreSQL refuses it in a query.
                        raise NotFound(request.url.path.replace("\x00", "%00"))
                    spoken = in_dialect(op, dialect)
                    params = parse_params(spoken, query, location="query")
                    params.update(
                        parse_params(spoken, form, location="form", on_missing=on_missing)
                    )
                    call = Call(
                        operation=op,
                        session=session,
                        account=account,
                        params=params,
                        path=dict(request.path_params),
                        query=query,
                        form=form,
                        urls=urls,
                        clock=runtime.clock,
                        sids=runtime.sids,
                        dialect=dialect,
                    )
                    return handler(call)

            if not is_sqlite(runtime.engine):
                reply = await run_in_threadpool(work)
            elif write:
                # SQLite has one writer at a time: requests that write queue here, holding
                # neither a thread nor a pooled connection while they wait. (Before the
                # writer lock of `db.dialect`, this alone took creating Fleets with 32
                # clients on the loaded 2-core machine from p99 1.4 s to 0.16 s.)
                reply = await to_thread.run_sync(work, limiter=runtime.sqlite_writers)
            else:
                # A SQLite read never waits for a lock (WAL) and is all CPU under the GIL:
                # on the event loop it saves the hand-off to a thread and back, half the
                # time of fetching a Sim (in-process A/B of 300 fetches: 6.7 ms -> 3.3 ms
                # each on the loaded 2-core machine).
                reply = work()
            if reply.body is None:
                return Response(status_code=reply.status)
            return JSONResponse(reply.body, status_code=reply.status)

        route.__name__ = handler.__name__
        route.__doc__ = handler.__doc__
        _OPERATIONS[route] = op
        if direct is not None:
            register_direct(route, direct)
        return route

    return decorate


def operation_of(route_endpoint: Callable[..., Any]) -> Operation | None:
    """The operation a route's endpoint implements, if `endpoint` made it."""
    return _OPERATIONS.get(route_endpoint)


async def read_form(
    request: Request, limit: int = 64 * 1024, *, json_bodies: bool = False
) -> list[tuple[str, str]]:
    """The form body as pairs (with `json_bodies`, a JSON object's too, as KORE's clients
    send them); 413 past `limit` bytes, 415 for other content types."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = json_bodies and content_type == "application/json"
    if content_type not in ("", "application/x-www-form-urlencoded") and not is_json:
        raise UnsupportedMediaType(
            "Send parameters form-encoded (Content-Type: application/x-www-form-urlencoded)"
            + (" or as a JSON object (Content-Type: application/json)" if json_bodies else "")
        )
    body = await read_body(request, limit)
    return json_pairs(body) if is_json else parse_pairs(body)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; 413 past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"Request body larger than {limit} bytes")
    return bytes(body)
