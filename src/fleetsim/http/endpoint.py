"""The shape of every API handler: parse, call one service function, render.

A handler is a plain function of a `Call`; `endpoint` turns it into the route's ASGI app,
which reads the credentials, query and form from the scope, runs the handler in one unit
of work (`fleetsim.http.commit`: authentication, parameters and the rule in one
transaction), and sends the JSON reply or the Twilio error. Request ids, metrics and the
access log are the observability middleware's, around every route alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session
from starlette.types import Receive, Scope, Send

from fleetsim.contract import Operation, in_dialect, operation
from fleetsim.core.clock import Clock
from fleetsim.core.dialect import Dialect, dialect_of
from fleetsim.core.errors import NotFound, TwilioError
from fleetsim.core.paging import PAGING_PARAMETERS, PageRequest
from fleetsim.core.sids import SidFactory
from fleetsim.db.paging import Page
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account
from fleetsim.http.commit import run_unit
from fleetsim.http.credentials import authenticate_credentials, credentials_of
from fleetsim.http.params import parse_pairs, parse_params
from fleetsim.http.request import header, read_scope_form
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls, page_meta

__all__ = ["Call", "Endpoint", "Reply", "endpoint", "error_headers", "operation_of", "send_json"]


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any] | None


@dataclass
class Call:
    """Everything a handler may use; nothing of the web framework leaks past it."""

    operation: Operation
    tx: Tx
    account: Account
    params: dict[str, Any]
    path: dict[str, str]
    query: Sequence[tuple[str, str]]
    form: Sequence[tuple[str, str]]
    urls: Urls
    clock: Clock
    sids: SidFactory
    dialect: Dialect = Dialect.TWILIO
    _page_request: PageRequest | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        """An ORM session in the call's transaction (for rules written with the ORM)."""
        return self.tx.session

    @property
    def page_request(self) -> PageRequest:
        if self._page_request is None:
            self._page_request = PageRequest.from_params(self.params)
        return self._page_request

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

# The operation each endpoint implements, for the route table's readers (/openapi.json).
_OPERATIONS: dict[Any, Operation] = {}


class Endpoint:
    """The ASGI app of one operation's route."""

    def __init__(
        self,
        op: Operation,
        handler: Handler,
        *,
        on_missing: Callable[[str], TwilioError] | None,
        api_keys: bool,
        bearer: bool,
    ) -> None:
        self.operation = op
        self.handler = handler
        self.on_missing = on_missing
        self.api_keys = api_keys
        self.bearer = bearer
        self.write = op.method != "GET"
        self.__name__ = handler.__name__
        self.__doc__ = handler.__doc__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime: Runtime = scope["app"].state.runtime
        authorization = (header(scope, b"authorization") or b"").decode("latin-1")
        try:
            reply = await self._answer(runtime, scope, receive, authorization)
        except TwilioError as error:
            dialect = dialect_of(authorization)
            await send_json(send, error.status, error.body(dialect), error_headers(error, dialect))
            return
        if reply.body is None:
            await send({"type": "http.response.start", "status": reply.status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send_json(send, reply.status, reply.body)

    async def _answer(
        self, runtime: Runtime, scope: Scope, receive: Receive, authorization: str
    ) -> Reply:
        op = self.operation
        credentials = credentials_of(authorization, bearer=self.bearer)
        dialect = credentials.dialect
        query = parse_pairs(scope["query_string"])
        form = (
            await read_scope_form(
                scope, receive, runtime.max_body_bytes, json_bodies=dialect is Dialect.KORE
            )
            if op.method == "POST"
            else []
        )
        urls = Urls.for_scope(scope, runtime.public_url)
        path: dict[str, str] = scope.get("path_params", {})
        # No SID or name holds NUL, and PostgreSQL refuses it in a query.
        holds_nul = any("\x00" in value for value in path.values())

        # Parsed before the unit of work, and answered in it after authentication (a 401
        # comes first): a request refused for its parameters reads and writes nothing, so
        # it runs as a read instead of joining the writes' commit.
        spoken = in_dialect(op, dialect)
        # The refusal is handed over, not kept in a variable: the traceback of the error
        # raised from it holds this frame, which would hold the error, a cycle that only
        # the garbage collector frees, with every object of the request.
        refusal: list[TwilioError] = []
        try:
            params = parse_params(spoken, query, location="query")
            params.update(parse_params(spoken, form, location="form", on_missing=self.on_missing))
        except TwilioError as error:
            params = {}
            refusal.append(error)

        def work(tx: Tx) -> Reply:
            account = authenticate_credentials(
                tx, credentials, clock=runtime.clock, api_keys=self.api_keys
            )
            if holds_nul:
                raise NotFound(scope["path"].replace("\x00", "%00"))
            if refusal:
                raise refusal.pop()
            call = Call(
                operation=op,
                tx=tx,
                account=account,
                params=params,
                path=dict(path),
                query=query,
                form=form,
                urls=urls,
                clock=runtime.clock,
                sids=runtime.sids,
                dialect=dialect,
            )
            return self.handler(call)

        return await run_unit(runtime.engine, work, write=self.write and not refusal)


def endpoint(
    operation_id: str | Operation,
    *,
    on_missing: Callable[[str], TwilioError] | None = None,
    api_keys: bool = True,
) -> Callable[[Handler], Endpoint]:
    """Make `handler` the implementation of the contract's `operation_id` (or of one of
    fleetsim's own operations, given as an `Operation`); with `api_keys` False, API keys
    are refused (403). Bearer tokens (KORE's dialect) are taken by the contract's
    operations only."""
    op = operation(operation_id) if isinstance(operation_id, str) else operation_id
    bearer = isinstance(operation_id, str)

    def decorate(handler: Handler) -> Endpoint:
        route = Endpoint(op, handler, on_missing=on_missing, api_keys=api_keys, bearer=bearer)
        _OPERATIONS[route] = op
        return route

    return decorate


def operation_of(route_endpoint: Any) -> Operation | None:
    """The operation a route's endpoint implements, if `endpoint` made it."""
    if isinstance(route_endpoint, Endpoint):
        return route_endpoint.operation
    return _OPERATIONS.get(route_endpoint)


def error_headers(error: TwilioError, dialect: Dialect) -> dict[str, str] | None:
    """The headers of an error's answer: a 401 names the scheme to authenticate with."""
    return {"WWW-Authenticate": dialect.auth_challenge} if error.status == 401 else None


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """Send `body` as compact UTF-8 JSON, as Starlette's JSONResponse renders it (orjson:
    a page of Sims spends a good part of its time being encoded)."""
    data = orjson.dumps(body)
    raw_headers = [
        (b"content-length", str(len(data)).encode()),
        (b"content-type", b"application/json"),
    ]
    if headers:
        raw_headers += [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": data})
