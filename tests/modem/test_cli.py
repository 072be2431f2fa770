"""`fleetsim modem` as users run it: a process serving a Sim's modem on TCP or a pty."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from twilio.rest import Client

from fleetsim.cli.main import main
from fleetsim.inventory.service import Card
from fleetsim.testing import Clock, Device, Server
from tests.modem.transcript import Transcript, make_sim

pytestmark = [pytest.mark.live]


@contextmanager
def modem_process(server: Server, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`fleetsim modem ARGS` with the account in the environment; its first output line."""
    env = {
        **os.environ,
        "FLEETSIM_ACCOUNT_SID": server.account_sid,
        "FLEETSIM_AUTH_TOKEN": server.auth_token,
        "FLEETSIM_URL": server.url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "fleetsim", "modem", *args, "--poll", "0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "the modem did not start"
        yield process, process.stdout.readline().strip()
    finally:
        process.terminate()
        process.communicate(timeout=15)


def test_the_modem_serves_tcp_and_registers(
    fleetsim_server: Server,
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_device: Callable[[str], Device],
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock)
    with modem_process(fleetsim_server, setup.sim, "--listen", "127.0.0.1:0") as (_, line):
        assert line.startswith(f"Modem for {setup.sim} on 127.0.0.1:")
        port = int(line.split("socket://127.0.0.1:")[1].rstrip(")"))
        modem = Transcript(("127.0.0.1", port))
        try:
            modem.expect("ATE0", "OK")
            modem.wait_for_registration()
        finally:
            modem.close()
    assert fleetsim_device(setup.sim).state()["state"] == "attached"


def test_the_modem_serves_a_pseudo_terminal(
    fleetsim_server: Server,
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock)
    with modem_process(fleetsim_server, setup.sim, "--pty") as (_, line):
        path = line.rsplit(" on ", 1)[1]
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"AT+CGMM\r")
            received = b""
            deadline = time.monotonic() + 15
            while b"OK\r\n" not in received and time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
                if ready:
                    received += os.read(fd, 1024)
            assert received == b"AT+CGMM\r\r\nSIMCOM_SIM7080G\r\n\r\nOK\r\n"
        finally:
            os.close(fd)


def test_the_modem_needs_credentials_and_an_address() -> None:
    sim = "HS" + "0" * 32
    missing = CliRunner().invoke(main, ["modem", sim], env={"FLEETSIM_ACCOUNT_SID": None})
    assert missing.exit_code == 2
    assert "FLEETSIM_ACCOUNT_SID" in missing.stderr
    env = {"FLEETSIM_ACCOUNT_SID": "AC" + "0" * 32, "FLEETSIM_AUTH_TOKEN": "0" * 32}
    bad = CliRunner().invoke(main, ["modem", sim, "--listen", "7080"], env=env)
    assert bad.exit_code == 2
    assert "HOST:PORT" in bad.stderr


def test_the_modem_says_when_the_sim_or_the_server_is_not_there(fleetsim_server: Server) -> None:
    env = {
        "FLEETSIM_ACCOUNT_SID": fleetsim_server.account_sid,
        "FLEETSIM_AUTH_TOKEN": fleetsim_server.auth_token,
        "FLEETSIM_URL": fleetsim_server.url,
    }
    unknown = CliRunner().invoke(main, ["modem", "HS" + "0" * 32], env=env)
    assert unknown.exit_code == 1
    assert "error 20404" in unknown.stderr
    env["FLEETSIM_URL"] = "http://127.0.0.1:9"
    away = CliRunner().invoke(main, ["modem", "HS" + "0" * 32], env=env)
    assert away.exit_code == 1
    assert "Cannot reach fleetsim at http://127.0.0.1:9" in away.stderr
