"""The server's HTTP protocol sends a response's head and body in one write: uvicorn's
protocol driven with raw bytes over a transport that records what reaches it."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from uvicorn.config import Config
from uvicorn.server import ServerState

from fleetsim.app.http_protocol import HELD_AT_MOST, Coalescing, HttpProtocol
from fleetsim.cli.server import uvicorn_options


class RecordingTransport(asyncio.Transport):
    """What a socket would have been asked to send, one entry per write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.reading = True

    def write(self, data: Any) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )


async def hello(request: Request) -> Response:
    return Response(b'{"hello":"world"}', media_type="application/json")


async def empty(request: Request) -> Response:
    return Response(status_code=204)


async def streamed(request: Request) -> StreamingResponse:
    async def chunks() -> Any:
        for chunk in (b"one,", b"two"):
            yield chunk
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), media_type="text/plain")


APP = Starlette(
    routes=[
        Route("/hello", hello, methods=["GET"]),
        Route("/empty", empty, methods=["POST"]),
        Route("/streamed", streamed, methods=["GET"]),
    ]
)


def exchange(*requests: bytes) -> RecordingTransport:
    """Feed `requests` to a connection of the server's protocol; what it wrote back."""
    return asyncio.run(_exchange(*requests))


async def _exchange(*requests: bytes) -> RecordingTransport:
    loop = asyncio.get_running_loop()
    config = Config(app=APP, lifespan="off", log_config=None, http=HttpProtocol)
    protocol = HttpProtocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    for request in requests:
        protocol.data_received(request)
    for _ in range(50):  # the app's tasks, and the flush at the end of their turn
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    return transport


def get(path: str, *extra: bytes) -> bytes:
    return b"\r\n".join([f"GET {path} HTTP/1.1".encode(), b"Host: test", *extra, b"", b""])


def test_a_response_leaves_in_one_write() -> None:
    transport = exchange(get("/hello"))

    (written,) = transport.writes
    head, _, body = written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"content-length: 17" in head
    assert body == b'{"hello":"world"}'


def test_fleetsim_serve_runs_uvicorn_on_this_protocol() -> None:
    options = uvicorn_options("127.0.0.1", 8080, "warning")
    options.pop("log_level")  # Config would set uvicorn's log levels for the whole process
    config = Config(app=APP, **options)
    config.load()

    assert config.http_protocol_class is HttpProtocol


def test_pipelined_requests_are_answered_in_order() -> None:
    transport = exchange(get("/hello") + get("/missing"))

    sent = b"".join(transport.writes)
    assert sent.count(b"HTTP/1.1 ") == 2
    assert sent.index(b"HTTP/1.1 200") < sent.index(b"HTTP/1.1 404")


def test_a_response_without_a_body_is_sent_whole() -> None:
    request = b"POST /empty HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n"
    transport = exchange(request)

    (written,) = transport.writes
    assert written.startswith(b"HTTP/1.1 204 No Content")
    assert written.endswith(b"\r\n\r\n")


def test_a_streamed_body_arrives_complete_and_in_order() -> None:
    transport = exchange(get("/streamed"))

    sent = b"".join(transport.writes)
    assert sent.startswith(b"HTTP/1.1 200 OK")
    assert b"transfer-encoding: chunked" in sent
    assert sent.endswith(b"4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n")


def test_a_connection_closed_after_its_response_sends_the_response_first() -> None:
    transport = exchange(get("/hello", b"Connection: close"))

    assert b"".join(transport.writes).endswith(b'{"hello":"world"}')
    assert transport.closed


def test_what_is_held_when_the_transport_closes_is_dropped() -> None:
    asyncio.run(_held_when_the_transport_closes())


async def _held_when_the_transport_closes() -> None:
    loop = asyncio.get_running_loop()
    inner = RecordingTransport()
    transport = Coalescing(inner, loop)
    transport.write(b"late")
    inner.close()  # the client went away within the turn
    await asyncio.sleep(0)

    assert inner.writes == []


def test_writes_of_one_turn_are_one_write_and_the_rest_is_the_transports() -> None:
    asyncio.run(_one_turn_one_write())


async def _one_turn_one_write() -> None:
    loop = asyncio.get_running_loop()
    inner = RecordingTransport()
    transport = Coalescing(inner, loop)
    transport.write(b"a")
    transport.writelines([bytearray(b"b"), memoryview(b"c")])
    assert transport.get_write_buffer_size() == 3
    await asyncio.sleep(0)
    transport.write(b"d")
    transport.close()

    assert inner.writes == [b"abc", b"d"]
    assert transport.get_extra_info("peername") == ("127.0.0.1", 50000)
    transport.pause_reading()
    assert not inner.reading


def test_a_turn_that_writes_a_lot_is_not_held_to_its_end() -> None:
    asyncio.run(_a_lot_in_one_turn())


async def _a_lot_in_one_turn() -> None:
    inner = RecordingTransport()
    transport = Coalescing(inner, asyncio.get_running_loop())
    chunk = b"x" * (HELD_AT_MOST // 4)
    for _ in range(6):
        transport.write(chunk)

    assert [len(written) for written in inner.writes] == [HELD_AT_MOST]  # before the turn ends
    assert transport.get_write_buffer_size() == 2 * len(chunk)
    await asyncio.sleep(0)
    assert b"".join(inner.writes) == chunk * 6
