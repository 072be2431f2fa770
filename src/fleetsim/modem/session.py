"""One modem session: the state of a SIM7080G-like module between power-on and power-off,
the dispatch of command lines to the handlers of each command family, result codes and
unsolicited reports.

A session acts only through the device API (`ModemSetup.api`), so everything the network
knows (attachment, inbox, usage) stays in the server's database; what lives here is the
module's own settings (echo, error format, text mode, report settings), as in a real
module's RAM.

Result codes (ITU-T V.250 §5.7): verbose (`ATV1`, the default) as `\\r\\nOK\\r\\n`,
numeric (`ATV0`) as `0\\r`; `ATQ1` sends none. Errors of a command (3GPP TS 27.007 §9.1,
TS 27.005 §3.2.5) follow `AT+CMEE`: 0 `ERROR`, 1 `+CME ERROR: <n>`, 2 `+CME ERROR:
<text>` (and the same for `+CMS ERROR`: SIMCom's modules apply `AT+CMEE` to both; 27.005
does not say).

Deviation: a TCP connection (or opening the pseudo-terminal) is the module's power-on:
each connection starts from the power-on defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fleetsim.modem.device import DeviceApi, DeviceApiError, DeviceApiUnreachable
from fleetsim.modem.lines import (
    Cancelled,
    CommandLine,
    Event,
    LineAssembler,
    Overflow,
    PromptData,
)
from fleetsim.modem.parser import Command, SyntaxProblem, find_prefix, parse_line
from fleetsim.webhooks.transport import DestinationPolicy

__all__ = [
    "CME_TEXT",
    "CMS_TEXT",
    "CmeError",
    "CmsError",
    "CommandError",
    "Handler",
    "ModemSetup",
    "Session",
]

log = logging.getLogger("fleetsim.modem")
T = TypeVar("T")

CME_TEXT = {
    3: "operation not allowed",
    4: "operation not supported",
    21: "invalid index",
    30: "no network service",
    32: "network not allowed - emergency calls only",
    50: "incorrect parameters",
    100: "unknown",
}
CMS_TEXT = {
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    321: "invalid memory index",
    331: "no network service",
    500: "unknown error",
}


class CommandError(Exception):
    """A command failed; the session answers ERROR or +CME/+CMS ERROR per AT+CMEE."""

    prefix = "+CME ERROR"
    texts = CME_TEXT

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code

    def render(self, cmee: int) -> str:
        if cmee == 1:
            return f"{self.prefix}: {self.code}"
        if cmee == 2:
            return f"{self.prefix}: {self.texts.get(self.code, 'unknown')}"
        return "ERROR"


class CmeError(CommandError):
    """3GPP TS 27.007 §9.2 mobile termination errors."""


class CmsError(CommandError):
    """3GPP TS 27.005 §3.2.5 message service errors."""

    prefix = "+CMS ERROR"
    texts = CMS_TEXT


Handler = Callable[["Session", Command], Awaitable[None]]
PromptDone = Callable[[bytes | None], Awaitable[None]]


@dataclass
class ModemSetup:
    """What a modem needs: its Sim, the device API, and how often it looks at the network."""

    sim: str
    api: DeviceApi
    model: str = "sim7080g"
    # How often the modem asks the network what changed (registration, new messages).
    poll_interval: float = 1.0
    # How often a denied automatic registration is tried again (also at once when the
    # Sim's status changes). Chosen; real modules back off per 3GPP TS 24.301 timers.
    retry_interval: float = 30.0
    handlers: dict[str, Handler] = field(default_factory=dict)
    # Where the HTTP client may go (the server's webhook destination policy); None: anywhere.
    http_policy: DestinationPolicy | None = None


class Session:
    """One connection's modem. `run(reader, writer)` serves it until the peer goes away."""

    def __init__(self, setup: ModemSetup) -> None:
        self.setup = setup
        self.sim = setup.sim
        self.lines = LineAssembler()
        self.echo = True
        self.verbose = True
        self.quiet = False
        self.cmee = 0
        self.settings: dict[str, str] = {}
        self.extra: dict[str, Any] = {}  # the command families' own state, by family
        self._writer: asyncio.StreamWriter | None = None
        self._out = bytearray()
        self._urcs: list[str] = []
        self._busy = False
        self._prompt_done: PromptDone | None = None
        # A command's own final result in place of OK (Quectel's `SEND OK`).
        self.final_result: str | None = None
        self._api_lock = asyncio.Lock()
        # Commands and polls take turns: a poll that read the network before a command
        # changed it must not report the old state after the command's.
        self._turn = asyncio.Lock()
        self._pollers: list[Callable[[Session], Awaitable[None]]] = []
        self._wake = asyncio.Event()

    # -- the device API, one call at a time, off the event loop

    async def api(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a `DeviceApi` method in a worker thread; unreachable → +CME ERROR: 100."""
        async with self._api_lock:
            try:
                return await asyncio.to_thread(method, *args, **kwargs)
            except DeviceApiUnreachable as exc:
                log.warning("modem %s: %s", self.sim, exc)
                raise CmeError(100) from None

    @property
    def device_api(self) -> DeviceApi:
        return self.setup.api

    # -- output

    def info(self, text: str) -> None:
        """An information response line."""
        self._out += (f"\r\n{text}\r\n" if self.verbose else f"{text}\r\n").encode("latin-1")

    def raw(self, data: bytes) -> None:
        self._out += data

    def urc(self, text: str) -> None:
        """An unsolicited result code: sent at once when idle, else after the command."""
        self._urcs.append(text)

    def _final(self, verbose: str, numeric: int | None) -> None:
        if self.quiet:
            return
        if self.verbose:
            self._out += f"\r\n{verbose}\r\n".encode("latin-1")
        else:
            self._out += f"{numeric if numeric is not None else verbose}\r".encode("latin-1")

    async def _flush(self) -> None:
        if self._out and self._writer is not None:
            self._writer.write(bytes(self._out))
            self._out.clear()
            await self._writer.drain()

    async def _flush_urcs(self) -> None:
        if self._busy or not self._urcs:
            return
        for text in self._urcs:
            self._out += f"\r\n{text}\r\n".encode("latin-1")
        self._urcs.clear()
        await self._flush()

    # -- prompts

    def prompt(self, done: PromptDone, *, length: int | None = None) -> None:
        """Send `> ` and hand the text that follows (None if abandoned) to `done`; OK
        follows unless it raises a CommandError."""
        self._out += b"\r\n> "
        self._prompt_done = done
        if length is None:
            self.lines.expect_text()
        else:
            self.lines.expect_bytes(length)

    # -- the session

    def add_poller(self, poller: Callable[[Session], Awaitable[None]]) -> None:
        self._pollers.append(poller)

    def wake(self) -> None:
        """Poll the network now rather than at the next interval."""
        self._wake.set()

    async def run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve the session until the other side hangs up."""
        self._writer = writer
        poll = asyncio.create_task(self._poll_loop())
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                self.lines.feed(data)
                while (event := self.lines.next_event()) is not None:
                    self._take_echo()
                    await self._flush()
                    await self._handle(event)
                self._take_echo()
                await self._flush()
                await self._flush_urcs()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await poll
            with contextlib.suppress(Exception):
                writer.close()

    def _take_echo(self) -> None:
        if self.echo:
            self._out += self.lines.echo
        self.lines.echo.clear()

    async def _poll_loop(self) -> None:
        while True:
            async with self._turn:
                for poller in self._pollers:
                    try:
                        await poller(self)
                    except (CommandError, DeviceApiError) as exc:
                        log.info("modem %s: poll: %s", self.sim, exc)
                    except Exception:  # a bug must not stop the modem's reports
                        log.exception("modem %s: poll failed", self.sim)
            await self._flush_urcs()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.setup.poll_interval)

    async def _handle(self, event: Event) -> None:
        if isinstance(event, PromptData | Cancelled):
            done, self._prompt_done = self._prompt_done, None
            if done is not None:
                data = event.data if isinstance(event, PromptData) else None
                await self._finish(done(data), final_ok=True)
            return
        if isinstance(event, Overflow):
            self._final("ERROR", 4)
            return
        await self._run_line(event)

    async def _run_line(self, line: CommandLine) -> None:
        if find_prefix(line.text) is None:
            return  # V.250: characters before an AT prefix are not a command line
        try:
            commands = parse_line(line.text)
        except SyntaxProblem:
            self._final("ERROR", 4)
            return
        self._busy = True

        async def run_all() -> None:
            for command in commands:
                handler = self.setup.handlers.get(command.name)
                if handler is None:
                    # No source says which code; "operation not supported" fits.
                    raise CmeError(4)
                await handler(self, command)
                if self._prompt_done is not None:
                    return  # the command took a prompt; the rest of the line is ignored

        await self._finish(run_all(), final_ok=True)

    async def _finish(self, work: Awaitable[None], *, final_ok: bool = False) -> None:
        """Run a command's work and give its final result, unless it opened a prompt."""
        self._busy = True
        try:
            async with self._turn:
                await work
        except CommandError as exc:
            self._prompt_done = self.final_result = None
            rendered = exc.render(self.cmee)
            self._final(rendered, 4 if rendered == "ERROR" else None)
        except DeviceApiError as exc:
            log.info("modem %s: %s", self.sim, exc)
            self._prompt_done = None
            self._final(CmeError(100).render(self.cmee), 4 if self.cmee == 0 else None)
        except Exception:  # a bug answers ERROR; the session goes on
            log.exception("modem %s: a command failed", self.sim)
            self._prompt_done = None
            self._final(CmeError(100).render(self.cmee), 4 if self.cmee == 0 else None)
        else:
            if self._prompt_done is not None:
                await self._flush()
                return
            if final_ok:
                result, self.final_result = self.final_result, None
                self._final(result or "OK", None if result else 0)
        self._busy = False
        await self._flush()
        await self._flush_urcs()
