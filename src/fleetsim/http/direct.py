"""Direct answers: the commonest successful read answered without the ORM or Starlette.

An endpoint may have, beside its handler, a direct handler (`endpoint(..., direct=...)`).
`DirectLane`, a middleware just inside the request observability (request id, metrics,
access log), tries it first for a GET: on a pooled DBAPI connection
(`fleetsim.db.direct`), with the account of the request's auth token. A direct handler
answers only the plain successful case and returns None for anything else — API key
credentials, a wrong or unknown token, an object not found, input it does not recognise —
and the request then goes through Starlette to the full handler, so every error and every
rule lives in one place. `tests/api/test_direct_answers.py` checks that the two paths give
the same bodies.

What it buys (SQLite, 2-core machine, `bench/api.py --quick --cases fetch`): fetching a
Sim took 715 µs in-process through the ORM and about 130 µs through the direct handler
behind Starlette's routing; under wrk, 1,057 req/s through the ORM, about 3,700 with the
direct handler behind Starlette, and about 5,100 in this lane in front of it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from fleetsim.core.errors import AuthenticationFailed, TwilioError
from fleetsim.db.dialect import is_sqlite
from fleetsim.db.direct import DirectReads, direct_reads
from fleetsim.http.params import parse_pairs
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls
from fleetsim.resources.accounts.service import authenticate_directly

__all__ = [
    "DirectCall",
    "DirectHandler",
    "DirectLane",
    "answer_directly",
    "credentials_from_header",
    "register_direct",
]

log = logging.getLogger("fleetsim.http")


@dataclass(frozen=True)
class DirectCall:
    reads: DirectReads
    account_id: int
    account_sid: str
    path: Mapping[str, str]
    query: Sequence[tuple[str, str]]
    urls: Urls


# The body of the 200 reply, or None.
DirectHandler = Callable[[DirectCall], dict[str, Any] | None]

_HANDLERS: dict[Callable[..., Any], DirectHandler] = {}


def register_direct(route_endpoint: Callable[..., Any], handler: DirectHandler) -> None:
    """`handler` answers directly for the route whose endpoint is `route_endpoint`."""
    _HANDLERS[route_endpoint] = handler


def credentials_from_header(header: str) -> tuple[str, str]:
    """Username and password of a Basic `Authorization` header; 401 when it is not one."""
    scheme, _, encoded = header.partition(" ")
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


def answer_directly(
    engine: Engine,
    handler: DirectHandler,
    credentials: tuple[str, str],
    path: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    urls: Urls,
) -> dict[str, Any] | None:
    """The body of the direct handler's 200 reply, or None when the full handler must
    answer."""
    if any("\x00" in value for value in path.values()):
        return None  # PostgreSQL refuses NUL in a query; the full handler answers 404
    with direct_reads(engine) as reads:
        account = authenticate_directly(reads, engine, *credentials)
        if account is None:
            return None
        return handler(DirectCall(reads, account[0], account[1], path, query, urls))


@dataclass(frozen=True)
class _DirectRoute:
    route: Route
    pattern: re.Pattern[str]
    handler: DirectHandler


class DirectLane:
    """ASGI middleware: answers the GETs of routes with a direct handler when it can, and
    passes every other request on unchanged."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = [
            _DirectRoute(route, route.path_regex, _HANDLERS[route.endpoint])
            for route in routes
            if isinstance(route, Route)
            and route.endpoint in _HANDLERS
            and route.methods is not None
            and "GET" in route.methods
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            for direct in self.routes:
                match = direct.pattern.match(scope["path"])
                if match is not None:
                    body = await self._answer(scope, direct, match.groupdict())
                    if body is not None:
                        scope["route"] = direct.route  # for the request's metrics and log
                        await _send_json(send, body)
                        return
                    break
        await self.app(scope, receive, send)

    async def _answer(
        self, scope: Scope, direct: _DirectRoute, path: dict[str, str]
    ) -> dict[str, Any] | None:
        runtime: Runtime = scope["app"].state.runtime
        header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        try:
            credentials = credentials_from_header(header.decode("latin-1"))
        except AuthenticationFailed:
            return None
        try:
            query = parse_pairs(scope["query_string"])
        except TwilioError:
            return None  # the full handler says what is wrong with it
        urls = Urls.for_scope(scope, runtime.public_url)
        args = (runtime.engine, direct.handler, credentials, path, query, urls)
        try:
            if is_sqlite(runtime.engine):
                # A SQLite read is all CPU and never waits for a lock (WAL): on the loop.
                return answer_directly(*args)
            return await run_in_threadpool(answer_directly, *args)
        except Exception:  # a bug here must not cost the answer: the full handler gives it
            log.exception("the direct answer of %s failed", scope["path"])
            return None


async def _send_json(send: Send, body: dict[str, Any]) -> None:
    # As Starlette's JSONResponse renders it.
    content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    data = content.encode("utf-8")
    headers = [(b"content-length", str(len(data)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data})
