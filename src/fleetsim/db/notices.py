"""PostgreSQL's notifications (LISTEN), heard on the event loop.

What a process keeps in memory about rows that any node may change is right only while
it hears of every change. A `Listener` keeps one connection listening on a channel, tells
its owner when it starts and stops hearing (so that the owner trusts what it keeps only
in between), and opens the connection again when it is lost: PostgreSQL drops the
notifications of a connection that is not listening, so each new start is a new start
for the owner too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import Engine

from fleetsim.db.dialect import loop_engine

__all__ = ["LISTENER_NAME", "Listener"]

log = logging.getLogger("fleetsim.db")

# The application_name of listening connections, as pg_stat_activity shows it.
LISTENER_NAME = "fleetsim listener"
# A connection that dies without closing (a host that went away) sends no word: a ping
# this often finds out.
_PING_INTERVAL = 5.0  # seconds
_PING_TIMEOUT = 5.0
# How long to wait before opening a connection again, after one failed.
_RETRY_INTERVAL = 1.0


class Listener:
    """Hears `channel` of `engine`'s database on the running loop: `heard()` on every
    notification; `listening(True)` once LISTEN is in force, `listening(False)` when it
    no longer is (the connection was lost, or `stop`). Made on the loop it listens on.
    `start` returns once the first attempt to listen has succeeded or failed."""

    def __init__(
        self,
        engine: Engine,
        channel: str,
        *,
        heard: Callable[[], None],
        listening: Callable[[bool], None],
    ) -> None:
        on_the_loop = loop_engine(engine)  # asyncpg's
        _, self._connect_args = on_the_loop.dialect.create_connect_args(on_the_loop.url)
        self._channel = channel
        self._heard = heard
        self._listening = listening
        self._task: asyncio.Task[None] | None = None
        self._tried = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._keep_listening())
        await self._tried.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _keep_listening(self) -> None:
        while True:
            try:
                await self._listen_once()
            except Exception as exc:  # whatever ended it, listen again: until then, nothing is kept
                log.warning("listening for changes on %s stopped: %s", self._channel, exc)
            self._tried.set()
            await asyncio.sleep(_RETRY_INTERVAL)

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(
            **self._connect_args, server_settings={"application_name": LISTENER_NAME}
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(self._channel, self._notified)
            self._listening(True)
            self._tried.set()
            try:
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), _PING_INTERVAL)
                        break
                    await asyncio.wait_for(connection.execute("SELECT 1"), _PING_TIMEOUT)
            finally:
                self._listening(False)
            log.warning("listening for changes on %s stopped: the connection closed", self._channel)
        finally:
            connection.terminate()

    def _notified(self, *_notification: Any) -> None:
        self._heard()
