"""Direct answers: the commonest successful requests answered without the ORM or Starlette.

An endpoint may have, beside its handler, a direct handler (`endpoint(..., direct=...)`).
`DirectLane`, a middleware just inside the request observability (request id, metrics,
access log), tries it first: on a pooled DBAPI connection (`fleetsim.db.direct`), with the
account of the request's auth token. A direct handler answers only the plain successful
case and returns None for anything else — API key credentials, a wrong or unknown token,
an object not found, input it does not recognise — and the request then goes through
Starlette to the full handler, so every error and every rule lives in one place.

A direct write (a POST) runs in one transaction that begins only when the database can be
written at once, and rolls back when the handler returns None or raises (a parameter the
contract refuses, a rule's `TwilioError`, a constraint): the full handler then answers from
the start, with the form replayed to it. `tests/api/test_direct_answers.py` and
`test_direct_writes.py` check that the two paths give the same bodies and store the same
rows.

What it buys (SQLite, 2-core machine, `bench/api.py --quick --cases fetch`): fetching a
Sim took 715 µs in-process through the ORM and about 130 µs through the direct handler
behind Starlette's routing; under wrk, 1,057 req/s through the ORM, about 3,700 with the
direct handler behind Starlette, and about 5,100 in this lane in front of it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleetsim.core.clock import Clock
from fleetsim.core.errors import AuthenticationFailed, TwilioError
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import is_sqlite
from fleetsim.db.direct import (
    DirectConflict,
    DirectReads,
    DirectWrites,
    WriterBusy,
    direct_reads,
    direct_writes,
)
from fleetsim.http.params import parse_pairs
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls
from fleetsim.resources.accounts.service import authenticate_directly

__all__ = [
    "DirectAnswer",
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
    form: Sequence[tuple[str, str]]
    urls: Urls
    clock: Clock
    sids: SidFactory

    @property
    def writes(self) -> DirectWrites:
        """The write transaction of a direct write (a POST's handler)."""
        assert isinstance(self.reads, DirectWrites), "only a POST's direct handler writes"
        return self.reads


# The status and body of the reply, or None.
DirectAnswer = tuple[int, dict[str, Any]]
DirectHandler = Callable[[DirectCall], DirectAnswer | None]

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


@dataclass(frozen=True)
class DirectRequest:
    credentials: tuple[str, str]
    path: Mapping[str, str]
    query: Sequence[tuple[str, str]]
    urls: Urls
    form: Sequence[tuple[str, str]] | None  # None: a read
    target: str = ""  # the path asked for, for the log


def answer_directly(
    runtime: Runtime, handler: DirectHandler, request: DirectRequest
) -> DirectAnswer | None:
    """The direct handler's reply, or None when the full handler must answer (and then a
    write has been rolled back)."""
    write = request.form is not None
    engine = runtime.engine
    try:
        transaction = direct_writes(engine) if write else direct_reads(engine)
        with transaction as db:
            return _answer(db, runtime, handler, request)
    except _LEFT_TO_THE_FULL_HANDLER:
        return None  # the full handler answers, and says what is wrong


def answer_together(
    runtime: Runtime, requests: Sequence[tuple[DirectHandler, DirectRequest]], *, wait: bool
) -> list[DirectAnswer | None]:
    """The replies of several direct writes made in one transaction, each in its own
    savepoint: one that is left to the full handler (None) leaves nothing behind, and the
    others are committed together. Without `wait`, `WriterBusy` when the database cannot
    be written at once."""
    answers: list[DirectAnswer | None] = []
    with direct_writes(runtime.engine, wait=wait) as writes:
        for handler, request in requests:
            try:
                with writes.savepoint():
                    answers.append(_answer(writes, runtime, handler, request))
            except _LEFT_TO_THE_FULL_HANDLER:
                answers.append(None)
            except Exception:  # a bug must not cost the others their answers
                log.exception("the direct answer of %s failed", request.target)
                answers.append(None)
    return answers


def _answer(
    db: DirectReads, runtime: Runtime, handler: DirectHandler, request: DirectRequest
) -> DirectAnswer | None:
    if any("\x00" in value for value in request.path.values()):
        return None  # PostgreSQL refuses NUL in a query; the full handler answers 404
    account = authenticate_directly(db, runtime.engine, *request.credentials)
    if account is None:
        return None
    call = DirectCall(
        db,
        *account,
        request.path,
        request.query,
        request.form or (),
        request.urls,
        runtime.clock,
        runtime.sids,
    )
    answer = handler(call)
    if answer is None and request.form is not None:
        raise _Declined()  # nothing of it may stay
    return answer


class _Declined(Exception):
    """A direct write's handler left the request to the full handler."""


_LEFT_TO_THE_FULL_HANDLER = (_Declined, WriterBusy, DirectConflict, TwilioError)


@dataclass(frozen=True)
class _DirectRoute:
    route: Route
    method: str
    pattern: re.Pattern[str]
    handler: DirectHandler


class DirectLane:
    """ASGI middleware: answers the requests of routes with a direct handler when it can,
    and passes every other request on unchanged."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _WriteQueue] = (
            weakref.WeakKeyDictionary()
        )
        self.routes = [
            _DirectRoute(route, method, route.path_regex, _HANDLERS[route.endpoint])
            for route in routes
            if isinstance(route, Route) and route.endpoint in _HANDLERS and route.methods
            for method in sorted(route.methods & {"GET", "POST"})
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for direct in self.routes:
                if direct.method != scope["method"]:
                    continue
                match = direct.pattern.match(scope["path"])
                if match is None:
                    continue
                form: list[tuple[str, str]] | None = None
                if direct.method == "POST":
                    body = await _read_form_body(scope, receive)
                    if body is None:
                        break
                    receive = _replaying(body, receive)
                    form = _form_pairs(body)
                    if form is None:
                        break
                answer = await self._answer(scope, direct, match.groupdict(), form)
                if answer is not None:
                    scope["route"] = direct.route  # for the request's metrics and log
                    await _send_json(send, *answer)
                    return
                break
        await self.app(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        direct: _DirectRoute,
        path: dict[str, str],
        form: list[tuple[str, str]] | None,
    ) -> DirectAnswer | None:
        runtime: Runtime = scope["app"].state.runtime
        header = _header(scope, b"authorization") or b""
        try:
            credentials = credentials_from_header(header.decode("latin-1"))
            query = parse_pairs(scope["query_string"])
        except TwilioError:
            return None  # the full handler says what is wrong with them
        urls = Urls.for_scope(scope, runtime.public_url)
        request = DirectRequest(credentials, path, query, urls, form, scope["path"])
        try:
            if not is_sqlite(runtime.engine):
                return await run_in_threadpool(answer_directly, runtime, direct.handler, request)
            # On the loop: a SQLite read never waits for a lock (WAL), and a direct write
            # begins only when it need not wait; both are all CPU.
            if form is None:
                return answer_directly(runtime, direct.handler, request)
            return await self._writes(runtime).answer(direct.handler, request)
        except Exception:  # a bug here must not cost the answer: the full handler gives it
            log.exception("the direct answer of %s failed", scope["path"])
            return None

    def _writes(self, runtime: Runtime) -> _WriteQueue:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _WriteQueue(runtime)
        return queue


class _WriteQueue:
    """The SQLite direct writes of one event loop, committed together.

    A write joins the queue and waits; the first to join has the loop commit the queue
    once the requests ready to run have joined too (`answer_together`), and each then has
    its reply. The replies go out after the commit, so a reply is never ahead of what is
    stored. Under load the requests that arrive together share one BEGIN and COMMIT, which
    were about 40% of a direct write's time (py-spy of `bench/api.py --cases sms`):
    creating SMS Commands went from about 1,500 to 2,000-2,400 req/s, Fleets from 1,600 to
    2,600-3,600. Alone, a write waits one turn of the loop.

    When another writer of the process (the job worker) has the database, the queue waits
    for it in a thread, off the loop, and commits there: the writes keep coming in together
    rather than each going to the full handler's slower transaction."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._waiting: list[_Waiting] = []
        self._behind_a_writer: set[asyncio.Task[None]] = set()

    async def answer(self, handler: DirectHandler, request: DirectRequest) -> DirectAnswer | None:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[DirectAnswer | None] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._commit)
        self._waiting.append(_Waiting(handler, request, reply))
        return await reply

    def _commit(self) -> None:
        waiting, self._waiting = self._waiting, []
        requests = [(w.handler, w.request) for w in waiting]
        try:
            answers = answer_together(self._runtime, requests, wait=False)
        except WriterBusy:
            task = asyncio.get_running_loop().create_task(self._commit_after_the_writer(waiting))
            self._behind_a_writer.add(task)  # held until done: the loop keeps only weak refs
            task.add_done_callback(self._behind_a_writer.discard)
            return
        except Exception:  # the full handlers answer them all
            log.exception("%d direct writes failed together", len(waiting))
            answers = [None] * len(waiting)
        _reply(waiting, answers)

    async def _commit_after_the_writer(self, waiting: list[_Waiting]) -> None:
        requests = [(w.handler, w.request) for w in waiting]
        try:
            answers = await run_in_threadpool(answer_together, self._runtime, requests, wait=True)
        except Exception:  # the full handlers answer them all
            log.exception("%d direct writes failed together", len(waiting))
            answers = [None] * len(waiting)
        _reply(waiting, answers)


def _reply(waiting: list[_Waiting], answers: list[DirectAnswer | None]) -> None:
    for each, answer in zip(waiting, answers, strict=True):
        if not each.reply.done():  # its client may have gone
            each.reply.set_result(answer)


@dataclass(frozen=True)
class _Waiting:
    handler: DirectHandler
    request: DirectRequest
    reply: asyncio.Future[DirectAnswer | None]


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


async def _read_form_body(scope: Scope, receive: Receive) -> bytes | None:
    """The whole body of a form POST of a declared, allowed length; None (and nothing read)
    for anything else, which the full handler judges."""
    runtime: Runtime = scope["app"].state.runtime
    content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
    length = _header(scope, b"content-length")
    if content_type not in (b"", b"application/x-www-form-urlencoded") or length is None:
        return None
    if not length.isdigit() or int(length) > runtime.max_body_bytes:
        return None
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None  # the client went away; the full handler sees it too
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _form_pairs(body: bytes) -> list[tuple[str, str]] | None:
    try:
        return parse_pairs(body)
    except TwilioError:
        return None


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for the full handler, once the lane has read the body."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    # As Starlette's JSONResponse renders it.
    content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    data = content.encode("utf-8")
    headers = [(b"content-length", str(len(data)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
