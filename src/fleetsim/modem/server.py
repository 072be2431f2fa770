"""Serving a modem: one session per TCP connection (pyserial's `socket://host:port` reaches
it), or one on a pseudo-terminal; and a modem on a background thread, for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace

from fleetsim.modem import (
    commands_general,
    commands_http,
    commands_network,
    commands_quectel,
    commands_sms,
    commands_sockets,
)
from fleetsim.modem.session import Handler, ModemSetup, Session

__all__ = [
    "MODELS",
    "TcpModem",
    "handlers_for",
    "modem_in_thread",
    "new_session",
    "serve_pty",
    "serve_tcp",
]

MODELS = ("sim7080g", "bg96", "bg95")
Poller = Callable[[Session], Awaitable[None]]


def handlers_for(model: str) -> dict[str, Handler]:
    """The command table of a modem model."""
    if model not in MODELS:
        raise ValueError(f"unknown modem model {model!r}; known: {', '.join(MODELS)}")
    common = {**commands_general.HANDLERS, **commands_network.HANDLERS, **commands_sms.HANDLERS}
    if model == "sim7080g":
        manufacturer, name, revision = commands_general.SIM7080G
        ati = f"{name.removeprefix('SIMCOM_')} {revision.removeprefix('Revision:')}"
        return {
            **common,
            **commands_general.identity(manufacturer, name, revision, ati),
            **commands_sockets.HANDLERS,
            **commands_http.HANDLERS,
        }
    manufacturer, name, revision = commands_general.BG96
    name = model.upper()
    return {
        **common,
        **commands_general.identity(manufacturer, name, revision, manufacturer, name, revision),
        **commands_quectel.HANDLERS,
    }


# In this order: the registration first, so the others see the network as it is now.
POLLERS: tuple[Poller, ...] = (
    commands_network.poll_registration,
    commands_sockets.poll_sockets,
    commands_sms.poll_inbox,
)


def new_session(setup: ModemSetup) -> Session:
    """A powered-on modem: its command table and what it follows on the network."""
    session = Session(replace(setup, handlers=setup.handlers or handlers_for(setup.model)))
    for poller in POLLERS:
        session.add_poller(poller)
    return session


class TcpModem:
    """A modem listening on TCP; `close()` hangs up every session and stops listening."""

    def __init__(self, setup: ModemSetup) -> None:
        self.setup = setup
        self.server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._sessions: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> tuple[str, int]:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._writers.add(writer)
        self._sessions.add(task)
        try:
            await new_session(self.setup).run(reader, writer)
        finally:
            self._writers.discard(writer)
            self._sessions.discard(task)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self._writers):
            writer.close()  # the session reads the end of its input and stops
        await asyncio.gather(*self._sessions, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()


async def serve_tcp(setup: ModemSetup, host: str, port: int) -> TcpModem:
    """Listen on host:port; each connection is a modem session."""
    modem = TcpModem(setup)
    modem.server = await asyncio.start_server(modem._connected, host, port)
    return modem


async def serve_pty(setup: ModemSetup, on_ready: Callable[[str], None]) -> None:
    """One session on a new pseudo-terminal (its path goes to `on_ready`), until cancelled.

    Deviation: closing the terminal on the other side does not end the session (a pty's
    master sees no hang-up until every slave descriptor closes).
    """
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    on_ready(os.ttyname(slave))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    read_transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(master, "rb", buffering=0)
    )
    write_transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(os.dup(master), "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(write_transport, protocol, reader, loop)
    try:
        await new_session(setup).run(reader, writer)
    finally:
        read_transport.close()
        os.close(slave)


@contextlib.contextmanager
def modem_in_thread(setup: ModemSetup, host: str = "127.0.0.1") -> Iterator[tuple[str, int]]:
    """A modem served on a free port by an event loop on its own thread; its address."""
    loop = asyncio.new_event_loop()
    ready: list[TcpModem] = []
    started = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        ready.append(loop.run_until_complete(serve_tcp(setup, host, 0)))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=main, name=f"modem-{setup.sim}", daemon=True)
    thread.start()
    if not started.wait(timeout=10):
        raise RuntimeError("the modem did not start")
    modem = ready[0]
    try:
        yield modem.address
    finally:
        asyncio.run_coroutine_threadsafe(modem.close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        setup.api.close()
