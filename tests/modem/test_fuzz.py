"""The modem against bad input (ITU-T V.250 line handling): random bytes, fragments of
commands, lines longer than the buffer, connections dropped mid-command. It keeps
answering `AT` with `OK`, and nothing changes on the network that the device did not do.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
from collections.abc import Callable, Iterator

import pytest
from twilio.rest import Client

from fleetsim.inventory.service import Card
from fleetsim.modem.lines import BUFFER_SIZE, CommandLine, LineAssembler, Overflow, PromptData
from fleetsim.modem.parser import SyntaxProblem, parse_line
from fleetsim.testing import Clock, Device
from tests.modem.transcript import Setup, Transcript, make_sim

pytestmark = [pytest.mark.live]

SEED = int(os.environ.get("FLEETSIM_FUZZ_SEED", "18"))
# Pieces of real command lines (none that changes the network or sends anything), so the
# random input reaches the parser's and handlers' paths, not only the junk path.
FRAGMENTS = [
    "AT",
    "at",
    "AT+",
    "+CEREG?",
    "+CREG=2",
    "+CMEE=",
    "2",
    ";",
    '"',
    ",",
    "=?",
    "?",
    "=",
    "+CMGF=1",
    "+CMGR=",
    "+CMGL=",
    '"ALL"',
    "+CNMI=2,1",
    "+COPS?",
    "+COPS=?",
    "+CSQ",
    "+CGDCONT=1,",
    '"IP"',
    '"super"',
    "+CGPADDR",
    "E1",
    "E0",
    "V0",
    "V1",
    "Q1",
    "Q0",
    "&F",
    "S3?",
    "S",
    "I",
    "Z",
    "+CPIN?",
    "+CNMP=38",
    "\r",
    "\n",
    "\r\n",
    "\x08",
    "\x1a",
    "\x1b",
    "\x00",
    "\xff",
    "ATD",
    "A/",
    "+CMGD=?",
    "+CGSN",
    "+CCID",
    "+CMEE=1",
]


def junk(rng: random.Random) -> bytes:
    parts = []
    for _ in range(rng.randint(1, 12)):
        if rng.random() < 0.6:
            parts.append(rng.choice(FRAGMENTS).encode("latin-1"))
        else:
            parts.append(rng.randbytes(rng.randint(1, 40)))
    return b"".join(parts)


def test_the_line_assembler_and_parser_take_any_bytes() -> None:
    rng = random.Random(SEED)
    lines = LineAssembler()
    for round_ in range(3000):
        data = junk(rng)
        # Fed in random pieces: a line may arrive a byte at a time.
        while data:
            cut = rng.randint(1, len(data))
            lines.feed(data[:cut])
            data = data[cut:]
            while (event := lines.next_event()) is not None:
                if isinstance(event, CommandLine):
                    assert len(event.text) <= BUFFER_SIZE
                    with contextlib.suppress(SyntaxProblem):
                        parse_line(event.text)
        if round_ % 7 == 0:
            lines.expect_text()
        lines.echo.clear()
    lines.feed(b"\x1b\rAT\r")
    events = []
    while (event := lines.next_event()) is not None:
        events.append(event)
    assert events[-1] == CommandLine("AT")


def test_overlong_lines_are_refused_whole() -> None:
    lines = LineAssembler()
    lines.feed(b"AT+CGMR" + b"X" * BUFFER_SIZE + b"\rAT\r")
    assert lines.next_event() == Overflow()
    assert lines.next_event() == CommandLine("AT")


def test_an_lf_right_after_cr_is_dropped_before_a_prompts_text() -> None:
    lines = LineAssembler()
    lines.feed(b"AT+CASEND=0,2\r")
    assert lines.next_event() == CommandLine("AT+CASEND=0,2")
    lines.expect_bytes(2)
    lines.feed(b"\nab")
    assert lines.next_event() == PromptData(b"ab")
    lines.feed(b'AT+CMGS="000"\r')
    assert lines.next_event() == CommandLine('AT+CMGS="000"')
    lines.expect_text()
    lines.feed(b"\nhi\r\nthere\x1a")
    assert lines.next_event() == PromptData(b"hi\r\nthere")


@pytest.fixture
def setup(
    fleetsim_client: Client, fleetsim_cards: Callable[..., list[Card]], fleetsim_clock: Clock
) -> Setup:
    return make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock)


@pytest.fixture
def address(setup: Setup, fleetsim_modem: Callable[..., tuple[str, int]]) -> tuple[str, int]:
    return fleetsim_modem(setup.sim)


@pytest.fixture
def modem(address: tuple[str, int]) -> Iterator[Transcript]:
    transcript = Transcript(address)
    transcript.expect("ATE0", "OK")
    transcript.wait_for_registration()
    yield transcript
    transcript.close()


def resync(modem: Transcript) -> None:
    """Leave any prompt, end any line, restore the result format, and read up to a marker."""
    modem.send(b"\x1b\rATE0V1Q0;+CGMM\r")
    modem.read_raw(b"SIMCOM_SIM7080G\r\n\r\nOK\r\n")


def test_junk_never_stops_the_modem(
    modem: Transcript, setup: Setup, fleetsim_device: Callable[[str], Device]
) -> None:
    before = fleetsim_device(setup.sim).state()
    rng = random.Random(SEED)
    for _ in range(60):
        modem.send(junk(rng))
        resync(modem)
        modem.send("AT\r")
        assert modem.read_raw(b"OK\r\n") == b"\r\nOK\r\n"
    # An overlong line: ERROR when it ends, and the modem goes on.
    modem.send(b"AT+CGMR" + b"9" * (2 * BUFFER_SIZE) + b"\r")
    assert modem.read_raw(b"ERROR\r\n") == b"\r\nERROR\r\n"
    modem.expect("AT", "OK")
    after = fleetsim_device(setup.sim).state()
    assert after == before
    assert fleetsim_device(setup.sim).inbox() == []
    assert setup.client.supersim.v1.sms_commands.list() == []


def test_a_connection_dropped_mid_command_changes_nothing(
    address: tuple[str, int], setup: Setup, fleetsim_device: Callable[[str], Device]
) -> None:
    first = Transcript(address)
    first.expect("ATE0;+CMGF=1", "OK")
    first.wait_for_registration()
    assert first.command('AT+CMGS="000"') == [">"]
    first.send("half a messa")
    first.sock.shutdown(socket.SHUT_RDWR)
    first.close()
    second = Transcript(address)
    second.send("AT+CFU")  # and gone, mid-line
    second.close()
    third = Transcript(address)
    try:
        third.expect("ATE0", "OK")
        third.expect("AT", "OK")
        third.wait_for_registration()
    finally:
        third.close()
    assert setup.client.supersim.v1.sms_commands.list() == []
    assert fleetsim_device(setup.sim).state()["state"] == "attached"
