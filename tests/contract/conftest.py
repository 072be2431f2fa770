"""Contract tests: a live `fleetsim serve`, driven by the official `twilio` SDK and by raw HTTP.

`live` gives each test a fresh server on a fresh database (both backends, through
`database_url`), an account known in advance, and cards loaded with the CLI, as a user
would set it up. Server starts cost 1-2 s, so tests group whole scenarios.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from twilio.rest import Client

from fleetsim.inventory.service import Card, read_cards
from fleetsim.resources.accounts.operator import OPERATOR
from tests.conftest import BACKENDS, fresh_database
from tests.support.receiver import Receiver
from tests.support.sdk import sdk_client
from tests.support.server import LiveServer

# Shaped like Twilio's: AC + 32 hex digits, and a 32-hex auth token (twilio-go refuses others).
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f00dfeed" * 4

CREDENTIALS_ENV = {"FLEETSIM_ACCOUNT_SID": ACCOUNT_SID, "FLEETSIM_AUTH_TOKEN": AUTH_TOKEN}


@dataclass
class Live:
    """A running `fleetsim serve`, the account it was started with, and cards to register."""

    server: LiveServer
    client: Client
    account_sid: str
    auth_token: str
    cards: list[Card]

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def sdk(self, username: str, password: str) -> Client:
        """Another SDK client on this server, e.g. with other credentials."""
        return sdk_client(self.base_url, username, password)

    def http(self) -> httpx.Client:
        """A plain HTTP client with this account's Basic credentials."""
        return httpx.Client(
            base_url=self.base_url, auth=(self.account_sid, self.auth_token), timeout=10.0
        )


def generate_cards(database_url: str, workdir: Path, *, count: int, seed: int) -> list[Card]:
    """Cards made and stored by `fleetsim inventory generate`, read back from its CSV."""
    output = workdir / f"cards-{seed}.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "fleetsim",
            "inventory",
            "generate",
            "--count",
            str(count),
            "--output",
            str(output),
            "--database-url",
            database_url,
            "--seed",
            str(seed),
        ],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    with output.open(encoding="utf-8", newline="") as handle:
        cards = read_cards(handle)
    assert len(cards) == count
    return cards


@contextmanager
def running(
    database_url: str,
    workdir: Path,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[LiveServer]:
    """A server on `database_url`, stopped (SIGTERM) on the way out."""
    server = LiveServer(
        database_url,
        workdir,
        env=dict(CREDENTIALS_ENV if env is None else env),
        extra_args=list(extra_args),
    )
    try:
        server.start()  # inside: a server that never answers is stopped too
        yield server
    finally:
        server.stop()


@contextmanager
def live_server(
    database_url: str,
    workdir: Path,
    *,
    seed: int = 1,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[Live]:
    """A server with the test account and 8 cards in its warehouse."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The CLI stores the cards while the server starts: each spends ~1.5 s importing,
        # and both share the database as an operator's CLI and server would.
        loading = pool.submit(generate_cards, database_url, workdir, count=8, seed=seed)
        with running(database_url, workdir, env, extra_args) as server:
            client = sdk_client(server.base_url, ACCOUNT_SID, AUTH_TOKEN)
            yield Live(server, client, ACCOUNT_SID, AUTH_TOKEN, loading.result())


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    """A fresh server for one test, on each backend."""
    with live_server(database_url, tmp_path) as server:
        yield server


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """Like `database_url`, but shared by a module's tests (read-mostly tests only)."""
    return fresh_database(request, tmp_path_factory.mktemp("contract"))


@pytest.fixture(scope="module")
def module_live(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """One server for a whole module, on each backend."""
    with live_server(module_database_url, tmp_path_factory.mktemp("live")) as server:
        yield server


def as_dict(instance: Any) -> dict[str, Any]:
    """The public properties an SDK instance deserialized, for comparing two fetches."""
    return {name: value for name, value in vars(instance).items() if not name.startswith("_")}


OPERATOR_TOKEN = "contract0operator0token"


@pytest.fixture(scope="module")
def manual_live(
    request: pytest.FixtureRequest,
    module_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Live]:
    """One server for the module on a manual clock that starts at the module's
    `CLOCK_START`, with the operator token, the test account and 8 cards."""
    start: str = request.module.CLOCK_START
    with live_server(
        module_database_url,
        tmp_path_factory.mktemp("manual"),
        seed=21,
        env={**CREDENTIALS_ENV, "FLEETSIM_OPERATOR_TOKEN": OPERATOR_TOKEN},
        extra_args=["--clock", "manual", "--clock-start", start],
    ) as live:
        yield live


@pytest.fixture(scope="module")
def control(manual_live: Live) -> Iterator[httpx.Client]:
    """Plain HTTP to the control API, as the operator."""
    with httpx.Client(
        base_url=manual_live.base_url, auth=(OPERATOR, OPERATOR_TOKEN), timeout=30.0
    ) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running_receiver:
        yield running_receiver
