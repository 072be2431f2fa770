"""A live fleetsim for tests: `fleetsim serve` in a subprocess on a free port, a temporary
SQLite database, the manual clock, and handles on the control and device APIs.

    with fleetsim.testing.running() as fs:
        client = fs.client()
        fs.clock.advance(seconds=3600)

The server is a real process (the same command users run), so tests see what production
sees: HTTP, the job worker, webhooks over the network. It is started with an account, an
auth token and an operator token made here, so nothing has to be read back from it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2 as httpx

from fleetsim.network.default_network import fleet_network
from fleetsim.testing.client import async_fleetsim_client, fleetsim_client
from fleetsim.testing.kore import KoreClient

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from twilio.rest import Client

    from fleetsim.inventory.service import Card

__all__ = ["DEFAULT_CLOCK_START", "FleetsimError", "Server", "running"]

# Where the manual clock starts unless told otherwise (a fixed time: repeatable tests).
DEFAULT_CLOCK_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class FleetsimError(Exception):
    """A fleetsim API answered with an error: its HTTP status, Twilio code and message."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"{status} (code {code}): {message}")
        self.status = status
        self.code = code
        self.message = message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answer(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text}
        raise FleetsimError(response.status_code, body.get("code"), str(body.get("message")))
    return response.json() if response.content else None


class Clock:
    """The server's manual clock, through the control API."""

    def __init__(self, server: Server) -> None:
        self._server = server

    def now(self) -> dt.datetime:
        body = self._server.control("GET", "/control/clock")
        return dt.datetime.fromisoformat(body["now"].replace("Z", "+00:00"))

    def advance(
        self,
        delta: dt.timedelta | None = None,
        *,
        seconds: float | None = None,
        to: dt.datetime | None = None,
    ) -> dt.datetime:
        """Move the clock forward (by `delta`, `seconds`, or `to` a time) and run every job
        that falls due on the way (lifecycle steps, webhooks, usage); the new time."""
        if to is not None:
            body = self._server.control(
                "POST", "/control/clock/advance", To=to.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        else:
            total = (delta.total_seconds() if delta is not None else 0) + (seconds or 0)
            body = self._server.control("POST", "/control/clock/advance", Seconds=str(total))
        return dt.datetime.fromisoformat(body["now"].replace("Z", "+00:00"))


@dataclass
class Device:
    """The simulated device of one Sim, through the device API (the account's credentials)."""

    server: Server
    sim: str  # the Sim's SID or unique name

    def _call(self, method: str, suffix: str = "", **form: Any) -> Any:
        data = {key: str(value) for key, value in form.items() if value is not None}
        return self.server.request(method, f"/devices/{self.sim}{suffix}", data=data or None)

    def state(self) -> dict[str, Any]:
        """The device: attached or not, network, IP address, data session."""
        return dict(self._call("GET"))

    def attach(
        self, network: str | None = None, *, mcc: str | None = None, mnc: str | None = None
    ) -> dict[str, Any]:
        """Attach to a network (a Network SID, or MCC/MNC; default: the first network of
        the Sim's Fleet's Network Access Profile)."""
        if network is None and mcc is None:
            network = fleet_network(lambda path: self.server.request("GET", path), self.sim)
        return dict(self._call("POST", "/attach", Network=network, Mcc=mcc, Mnc=mnc))

    def detach(self) -> dict[str, Any]:
        return dict(self._call("POST", "/detach"))

    def use_data(
        self, upload: int = 0, download: int = 0, *, over: int | None = None
    ) -> dict[str, Any]:
        """Use data: bytes up and down, at once or spread `over` seconds of clock time."""
        return dict(self._call("POST", "/data", Upload=upload, Download=download, Over=over))

    def send_sms(self, body: str, to: str = "000") -> dict[str, Any]:
        """Send an SMS Command (mobile-originated); the SMS Command resource it became."""
        return dict(self._call("POST", "/sms", To=to, Body=body))

    def send_udp(
        self, text: str | None = None, *, payload: str | None = None, source_port: int = 4000
    ) -> dict[str, Any]:
        """Send a datagram to the network (text, or Base64 `payload`); the IP Command."""
        return dict(self._call("POST", "/udp", SourcePort=source_port, Text=text, Payload=payload))

    def inbox(self) -> list[dict[str, Any]]:
        """SMS and IP Commands the device received, oldest first (the first 1000)."""
        body = self.server.request("GET", f"/devices/{self.sim}/inbox", params={"PageSize": 1000})
        return list(body["messages"])


@dataclass
class Server:
    """A running fleetsim and the credentials it was started with."""

    url: str
    account_sid: str
    auth_token: str
    operator_token: str
    database_url: str
    log_path: Path | None = None  # the server's output (removed with the server)
    _engine: Engine | None = field(default=None, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def clock(self) -> Clock:
        return Clock(self)

    def client(self, **kwargs: Any) -> Client:
        """A `twilio.rest.Client` on this server with the account's credentials."""
        return fleetsim_client(self.url, self.account_sid, self.auth_token, **kwargs)

    def async_client(self, **kwargs: Any) -> Client:
        """The same on Twilio's async HTTP client (`*_async` methods)."""
        return async_fleetsim_client(self.url, self.account_sid, self.auth_token, **kwargs)

    def kore_client(self, lifetime: str = "1h", **kwargs: Any) -> KoreClient:
        """A client written to KORE's documentation (Bearer tokens, refreshed on a 401)
        with a new API client of the account, whose tokens live `lifetime` (1h, 24h, 30d
        or 24mo) on the server's clock. Close it (or use it in a `with` block)."""
        made = self.control(
            "POST", f"/control/accounts/{self.account_sid}/api-clients", Lifetime=lifetime
        )
        return KoreClient(self.url, made["client_id"], made["client_secret"], **kwargs)

    def device(self, sim: str) -> Device:
        return Device(self, sim)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any API call with the account's credentials; the JSON answer, or FleetsimError."""
        auth = (self.account_sid, self.auth_token)
        return _answer(httpx.request(method, self.url + path, auth=auth, timeout=30.0, **kwargs))

    def control(self, method: str, path: str, **form: str) -> Any:
        """A control API call with the operator credentials."""
        auth = ("operator", self.operator_token)
        data = form or None
        return _answer(httpx.request(method, self.url + path, auth=auth, data=data, timeout=60.0))

    def reset(self) -> None:
        """Remove every resource, card, job and delivery; the account and the clock's time
        stay (the clock never moves back)."""
        self.control("POST", "/control/reset")

    def cards(self, count: int = 1) -> list[Card]:
        """Put `count` new physical SIM cards in the warehouse; register them with
        `client.supersim.v1.sims.create(iccid=card.iccid, registration_code=...)`."""
        from fleetsim.core.clock import SystemClock
        from fleetsim.db.dialect import create_database_engine
        from fleetsim.db.uow import unit_of_work
        from fleetsim.inventory.service import generate_cards, import_cards

        if self._engine is None:
            self._engine = create_database_engine(self.database_url)
        made = list(generate_cards(count, self._rng))
        with unit_of_work(self._engine, write=True) as session:
            import_cards(session, made, clock=SystemClock())
        return made

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


@contextlib.contextmanager
def running(
    *,
    clock_start: dt.datetime = DEFAULT_CLOCK_START,
    database_url: str | None = None,
    seed: int | None = None,
    extra_args: tuple[str, ...] = (),
    timeout: float = 60.0,
) -> Iterator[Server]:
    """A fleetsim server for the duration of the block, on a free port; a temporary SQLite
    database (or `database_url`), the manual clock at `clock_start`; stopped and its files
    removed on the way out."""
    workdir = Path(tempfile.mkdtemp(prefix="fleetsim-"))
    port = _free_port()
    server = Server(
        url=f"http://127.0.0.1:{port}",
        account_sid="AC" + secrets.token_hex(16),
        auth_token=secrets.token_hex(16),
        operator_token=secrets.token_hex(16),
        database_url=database_url or f"sqlite:///{workdir / 'fleetsim.db'}",
        _rng=random.Random(seed),
    )
    env = {
        **os.environ,
        "FLEETSIM_ACCOUNT_SID": server.account_sid,
        "FLEETSIM_AUTH_TOKEN": server.auth_token,
        "FLEETSIM_OPERATOR_TOKEN": server.operator_token,
    }
    command = [
        sys.executable,
        "-m",
        "fleetsim",
        "serve",
        "--port",
        str(port),
        "--database-url",
        server.database_url,
        "--clock",
        "manual",
        "--clock-start",
        clock_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        *(["--seed", str(seed)] if seed is not None else []),
        *extra_args,
    ]
    log_path = server.log_path = workdir / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(server.url, process, log_path, timeout)
        yield server
    finally:
        server.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_until_up(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"fleetsim serve exited at start:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        # Wait on the process itself: returns at once if it dies, else after 50 ms.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.05)
    raise RuntimeError(
        f"fleetsim serve did not answer within {timeout:.0f}s:\n{log_path.read_text()}"
    )
