"""uvicorn's HTTP protocol, with a response's writes sent in one system call.

uvicorn writes a response's status line and headers, then its body, each with its own
`transport.write`; on an idle connection each write is a `send` at once. `Coalescing`
holds the writes a turn of the event loop makes and sends them together at its end: a
response's head and body (and the answers of pipelined requests) leave in one `send`.
Nothing waits longer than the turn that wrote it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HELD_AT_MOST", "Coalescing", "HttpProtocol"]

# Bytes held before they are written at once: a turn that writes more (a streamed body
# whose source never makes it wait) leaves in writes of about this size, and flow control
# (uvicorn pauses a response whose transport's buffer is full) sees them.
HELD_AT_MOST = 64 * 1024


class Coalescing:
    """A transport whose writes of one turn of the loop reach the wrapped one as one write.

    Everything but writing and closing is the wrapped transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        chunk = bytes(data)
        self._held.append(chunk)
        self._held_bytes += len(chunk)
        if self._held_bytes >= HELD_AT_MOST:  # a body streamed without a pause: no hoard
            self.flush()

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Write what is held now (the loop does it at the end of the turn)."""
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held = []
        self._held_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._held_bytes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `Coalescing` transport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(Coalescing(transport, self.loop))  # type: ignore[arg-type]
