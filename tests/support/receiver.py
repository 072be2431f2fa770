"""A real HTTP receiver for webhooks: records every request and answers from a script.

    with Receiver() as receiver:
        receiver.script(500, 500)            # then the default: 200
        ...                                  # make fleetsim call receiver.url("/callback")
        first, second, third = receiver.wait_for(3)

A script step is a status code, a `Reply`, or `Hang(seconds)`: hold the request until
`release()` (or for at most `seconds`), then answer with the next step. Requests are
recorded when they arrive, before they are answered, so a test can see a hanging request.
Waits are bounded and wake on arrival (a `threading.Condition`); nothing sleeps.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Hang", "Received", "Receiver", "Reply"]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"OK"
    headers: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class Hang:
    """Hold the request until the receiver is released, for at most `seconds`, then answer
    with `then`."""

    seconds: float = 30.0
    then: Reply = field(default_factory=Reply)


Step = int | Reply | Hang


@dataclass(frozen=True)
class Received:
    """One request as it reached the receiver."""

    method: str
    url: str  # absolute, with the query, exactly as requested
    path: str  # path and query
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        """The form-encoded body (blank values kept: they are signed too)."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    @property
    def signature(self) -> str:
        return self.headers["x-twilio-signature"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that hung up before its answer (it timed out) is not an error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server  # HTTP/1.0: one request per connection, so no thread outlives it

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        receiver = self.server.receiver
        reply = receiver._arrived(
            Received(
                method=self.command,
                url=receiver.base_url + self.path,
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
        )
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()
        receiver._answered_one()

    do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 - the names stdlib calls

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `Receiver.requests` instead."""


class Receiver:
    """An HTTP server on 127.0.0.1 (a free port) in a thread; a context manager."""

    def __init__(self, default: Reply | int = 200) -> None:
        self._default = _reply(default)
        self._steps: deque[Step] = deque()
        self._requests: list[Received] = []
        self._answered = 0
        self._changed = threading.Condition()
        self._released = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/callback") -> str:
        return self.base_url + path

    def script(self, *steps: Step, default: Reply | int | None = None) -> None:
        """Answer the next requests with `steps`, in turn, and later ones with `default`
        (unchanged when not given; 200 at first)."""
        with self._changed:
            self._steps.extend(steps)
            if default is not None:
                self._default = _reply(default)

    def release(self) -> None:
        """Let hanging requests (and any later `Hang`) answer now."""
        self._released.set()

    @property
    def requests(self) -> list[Received]:
        with self._changed:
            return list(self._requests)

    @property
    def answered(self) -> int:
        """How many requests have had their answer sent."""
        with self._changed:
            return self._answered

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first `count` requests, once they have arrived (AssertionError after
        `timeout` seconds)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._requests) >= count, timeout):
                raise AssertionError(
                    f"expected {count} requests within {timeout}s, got {len(self._requests)}"
                )
            return self._requests[:count]

    def _arrived(self, request: Received) -> Reply:
        with self._changed:
            self._requests.append(request)
            step = self._steps.popleft() if self._steps else self._default
            self._changed.notify_all()
        if isinstance(step, Hang):
            self._released.wait(step.seconds)
            step = step.then
        return _reply(step)

    def _answered_one(self) -> None:
        with self._changed:
            self._answered += 1
            self._changed.notify_all()

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.release()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def _reply(step: Reply | int) -> Reply:
    return step if isinstance(step, Reply) else Reply(step)
