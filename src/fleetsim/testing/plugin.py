"""The fleetsim pytest plugin (loaded through the `pytest11` entry point).

Fixtures:
    fleetsim_server   the running fleetsim (a `fleetsim.testing.Server`), reset for this test
    fleetsim_client   a `twilio.rest.Client` on it, with its account's credentials
    fleetsim_kore_client  a client written to KORE's documentation (`KoreClient`, httpx2):
                      a new API client's Bearer tokens, fetched again on a 401
    fleetsim_clock    its manual clock: `.now()`, `.advance(seconds=...)`
    fleetsim_device   a function: `fleetsim_device(sim_sid)` is that Sim's simulated device
    fleetsim_cards    a function: `fleetsim_cards(n)` puts n SIM cards in the warehouse
    fleetsim_modem    a function: `fleetsim_modem(sim)` serves a virtual modem (SIM7080G
                      AT commands) for that Sim on a free local port; its (host, port)

One server process serves the whole session (per xdist worker): a temporary SQLite
database and the manual clock, started the first time a test asks for it. Isolation:
before each test that uses a fixture above, `POST /control/reset` removes every resource,
card, job and webhook delivery; the account and its credentials stay, and so does the
clock's time (it never moves back), so write times relative to `fleetsim_clock.now()`.

Options (ini or command line): `fleetsim_clock_start` (`--fleetsim-clock-start`), the time
the manual clock starts at (default 2026-01-01T00:00:00Z).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from twilio.rest import Client

    from fleetsim.inventory.service import Card
    from fleetsim.testing.kore import KoreClient
    from fleetsim.testing.server import Clock, Device, Server
    from fleetsim.webhooks.transport import DestinationPolicy

__all__ = [
    "fleetsim_cards",
    "fleetsim_client",
    "fleetsim_clock",
    "fleetsim_device",
    "fleetsim_kore_client",
    "fleetsim_modem",
    "fleetsim_server",
    "fleetsim_session_server",
]

_START_HELP = "Time the fleetsim manual clock starts at, UTC (default 2026-01-01T00:00:00Z)."


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fleetsim")
    group.addoption("--fleetsim-clock-start", default=None, help=_START_HELP)
    parser.addini("fleetsim_clock_start", _START_HELP, default=None)


def _clock_start(config: pytest.Config) -> dt.datetime:
    from fleetsim.testing.server import DEFAULT_CLOCK_START

    raw = config.getoption("--fleetsim-clock-start") or config.getini("fleetsim_clock_start")
    if not raw:
        return DEFAULT_CLOCK_START
    try:
        value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise pytest.UsageError(
            f"fleetsim_clock_start: {raw!r} is not a time; write e.g. 2026-01-01T00:00:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def fleetsim_session_server(pytestconfig: pytest.Config) -> Iterator[Server]:
    """The fleetsim process of this session, not reset (use `fleetsim_server`)."""
    from fleetsim.testing.server import running

    with running(clock_start=_clock_start(pytestconfig)) as server:
        yield server


@pytest.fixture
def fleetsim_server(fleetsim_session_server: Server) -> Server:
    """The session's fleetsim, reset for this test."""
    fleetsim_session_server.reset()
    return fleetsim_session_server


@pytest.fixture
def fleetsim_client(fleetsim_server: Server) -> Client:
    """Twilio's Python SDK pointed at fleetsim, with the account's credentials."""
    return fleetsim_server.client()


@pytest.fixture
def fleetsim_kore_client(fleetsim_server: Server) -> Iterator[KoreClient]:
    """KORE's way in: a new API client of the account (tokens live 1 hour on the server's
    clock), and an HTTP client that gets its Bearer tokens and renews them on a 401."""
    with fleetsim_server.kore_client() as client:
        yield client


@pytest.fixture
def fleetsim_clock(fleetsim_server: Server) -> Clock:
    """fleetsim's manual clock: `.now()`, `.advance(seconds=...)` (runs what falls due)."""
    return fleetsim_server.clock


@pytest.fixture
def fleetsim_device(fleetsim_server: Server) -> Callable[[str], Device]:
    """`fleetsim_device(sim)`: the simulated device of a Sim (SID or unique name)."""
    return fleetsim_server.device


@pytest.fixture
def fleetsim_cards(fleetsim_server: Server) -> Callable[..., list[Card]]:
    """`fleetsim_cards(n)`: n new SIM cards (iccid, registration_code) ready to register."""
    return fleetsim_server.cards


@pytest.fixture
def fleetsim_modem(fleetsim_server: Server) -> Iterator[Callable[..., tuple[str, int]]]:
    """`fleetsim_modem(sim, poll_interval=0.1, http_policy=None, model="sim7080g")`: a
    virtual modem for the Sim (or "bg96", "bg95"), served in this process on a free port
    until the test ends; its (host, port) for a TCP client (pyserial:
    `serial.serial_for_url(f"socket://{host}:{port}")`)."""
    from fleetsim.modem.device import DeviceApi
    from fleetsim.modem.server import modem_in_thread
    from fleetsim.modem.session import ModemSetup

    with contextlib.ExitStack() as modems:

        def start(
            sim: str,
            *,
            poll_interval: float = 0.1,
            retry_interval: float = 5.0,
            http_policy: DestinationPolicy | None = None,
            model: str = "sim7080g",
        ) -> tuple[str, int]:
            api = DeviceApi(
                fleetsim_server.url, fleetsim_server.account_sid, fleetsim_server.auth_token
            )
            setup = ModemSetup(
                sim,
                api,
                poll_interval=poll_interval,
                retry_interval=retry_interval,
                http_policy=http_policy,
                model=model,
            )
            return modems.enter_context(modem_in_thread(setup))

        yield start
