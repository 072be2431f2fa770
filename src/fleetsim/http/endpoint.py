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

from fleetsim.contract import Operation, operation
from fleetsim.core.clock import Clock
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
from fleetsim.http.direct import DirectHandler, credentials_from_header, register_direct
from fleetsim.http.params import parse_pairs, parse_params
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls, page_meta
from fleetsim.resources.accounts.service import authenticate

__all__ = ["Call", "Reply", "endpoint", "operation_of", "read_form"]

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
    are refused (403). A `direct` handler may answer the plain successful case of a GET or
    POST without the ORM (see `fleetsim.http.direct`)."""
    op = operation(operation_id) if isinstance(operation_id, str) else operation_id
    write = op.method != "GET"

    def decorate(handler: Handler) -> Route:
        async def route(request: Request) -> Response:
            runtime: Runtime = request.app.state.runtime
            username, password = basic_credentials(request)
            query = parse_pairs(request.scope.get("query_string", b""))
            form = await read_form(request, runtime.max_body_bytes) if op.method == "POST" else []
            urls = Urls.for_request(request, runtime.public_url)

            def work() -> Reply:
                with unit_of_work(runtime.engine, write=write) as session:
                    account = authenticate(session, username, password, api_keys=api_keys)
                    if any("\x00" in value for value in request.path_params.values()):
                        # No SID or name holds NUL, and PostgreSQL refuses it in a query.
                        raise NotFound(request.url.path.replace("\x00", "%00"))
                    params = parse_params(op, query, location="query")
                    params.update(parse_params(op, form, location="form", on_missing=on_missing))
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


def basic_credentials(request: Request) -> tuple[str, str]:
    return credentials_from_header(request.headers.get("authorization", ""))


async def read_form(request: Request, limit: int = 64 * 1024) -> list[tuple[str, str]]:
    """The form body as pairs; 413 past `limit` bytes, 415 for other content types."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("", "application/x-www-form-urlencoded"):
        raise UnsupportedMediaType(
            "Send parameters form-encoded (Content-Type: application/x-www-form-urlencoded)"
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"Request body larger than {limit} bytes")
    return parse_pairs(bytes(body))
