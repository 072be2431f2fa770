"""Real datagrams: a live `fleetsim serve --udp-port N`, a UDP socket in this test playing
the device's modem, bound to the device through the device API. An IP Command created
with the SDK arrives at the socket when the clock moves, from the server's UDP bridge;
the socket answers the sender, and the answer becomes a mobile-originated IP Command.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from fleetsim.resources.accounts.operator import OPERATOR
from tests.contract.conftest import ACCOUNT_SID, AUTH_TOKEN, CREDENTIALS_ENV, Live, generate_cards
from tests.contract.test_sdk_ip_commands import active_sim, advance, attach, ok
from tests.support.sdk import sdk_client
from tests.support.server import LiveServer

pytestmark = [pytest.mark.live]

OPERATOR_TOKEN = "udp0operator0token0for0tests"
WAIT_SECONDS = 10.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def udp_port() -> int:
    return free_udp_port()


@pytest.fixture
def live(database_url: str, tmp_path: Path, udp_port: int) -> Iterator[Live]:
    server = LiveServer(
        database_url,
        tmp_path,
        env={**CREDENTIALS_ENV, "FLEETSIM_OPERATOR_TOKEN": OPERATOR_TOKEN},
        extra_args=["--clock", "manual", "--udp-port", str(udp_port)],
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The CLI stores the cards while the server starts, as in tests/contract/conftest.py.
        loading = pool.submit(generate_cards, database_url, tmp_path, count=2, seed=31)
        try:
            server.start()
            client = sdk_client(server.base_url, ACCOUNT_SID, AUTH_TOKEN)
            yield Live(server, client, ACCOUNT_SID, AUTH_TOKEN, loading.result())
        finally:
            server.stop()


@pytest.fixture
def modem() -> Iterator[socket.socket]:
    """The device's end: a real UDP socket on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(WAIT_SECONDS)
        yield sock


def poll(fetch: Any, timeout: float = WAIT_SECONDS) -> Any:
    """`fetch()`'s first non-empty answer, asked again every 50 ms up to `timeout` s."""
    pause = threading.Event()
    waited = 0.0
    while waited < timeout:
        found = fetch()
        if found:
            return found
        pause.wait(0.05)
        waited += 0.05
    raise AssertionError(f"nothing within {timeout}s")


def test_an_ip_command_makes_the_round_trip_over_real_udp(
    live: Live, udp_port: int, modem: socket.socket
) -> None:
    assert f"127.0.0.1:{udp_port}" in live.server.output  # the port is announced at start
    v1 = live.client.supersim.v1
    modem_port = modem.getsockname()[1]
    with (
        live.http() as http,
        httpx.Client(
            base_url=live.base_url, auth=(OPERATOR, OPERATOR_TOKEN), timeout=30.0
        ) as control,
    ):
        sim, _ = active_sim(live, control, 0, "udp-fleet")
        address = attach(live, http, sim)
        bound = ok(http.post(f"/devices/{sim}/udp-binding", data={"Port": str(modem_port)}))
        assert bound["udp"] == {"host": "127.0.0.1", "port": modem_port}
        assert bound["udp_bridge"] == {"host": "127.0.0.1", "port": udp_port}

        command = v1.ip_commands.create(sim=sim, payload="reboot now", device_port=6969)
        advance(control, 1)
        data, sender = modem.recvfrom(65535)
        assert data == b"reboot now"
        assert sender == ("127.0.0.1", udp_port)
        assert v1.ip_commands(command.sid).fetch().status == "sent"

        reply = b"\x00rebooting\xff"
        modem.sendto(reply, sender)
        (received,) = poll(lambda: v1.ip_commands.list(sim=sim, direction="from_sim"))
        assert received.status == "received"
        assert received.payload_type == "binary"
        assert base64.b64decode(received.payload) == reply
        assert received.payload == base64.b64encode(reply).decode()
        assert received.device_port == modem_port
        assert received.device_ip == address
