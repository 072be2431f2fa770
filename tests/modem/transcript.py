"""A transcript helper for modem tests: send a command line, read the lines it answers,
wait (with a bound) for unsolicited reports."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twilio.rest import Client

from fleetsim.inventory.service import Card
from fleetsim.testing import Clock

FINAL = re.compile(r"^(OK|ERROR|SEND OK|SEND FAIL|\+CME ERROR: .*|\+CMS ERROR: .*)$")
UNSOLICITED = (
    "+APP PDP:",
    "+CASEND:",
    "+CMTI:",
    "+CMT:",
    "+CANEW:",
    "+CADATAIND:",
    "+CASTATE:",
    "+CEREG: ",
    "+CREG: ",
)


class Transcript:
    """A TCP connection to a modem, read line by line."""

    def __init__(self, address: tuple[str, int], timeout: float = 15.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.timeout = timeout
        self.buffer = b""
        self.unsolicited: list[str] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode("latin-1") if isinstance(data, str) else data)

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the modem said only {self.buffer!r}")
        self.sock.settimeout(left)
        chunk = self.sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"the modem hung up after {self.buffer!r}")
        self.buffer += chunk

    def read_raw(self, until: bytes) -> bytes:
        """Bytes up to and including `until`."""
        deadline = time.monotonic() + self.timeout
        while until not in self.buffer:
            self._fill(deadline)
        end = self.buffer.index(until) + len(until)
        taken, self.buffer = self.buffer[:end], self.buffer[end:]
        return taken

    def _line(self, deadline: float) -> str:
        while b"\r\n" not in self.buffer:
            if self.buffer.endswith(b"> ") and self.buffer.strip() == b">":
                self.buffer = b""
                return ">"
            self._fill(deadline)
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode("latin-1")

    def command(self, line: str, *, timeout: float | None = None) -> list[str]:
        """Send a command line (echo must be off); the lines up to the final result code
        or a `>` prompt, without blank lines or unsolicited reports."""
        self.send(line + "\r")
        return self.response(timeout=timeout, reading=line)

    def response(self, *, timeout: float | None = None, reading: str = "") -> list[str]:
        deadline = time.monotonic() + (timeout or self.timeout)
        lines: list[str] = []
        while True:
            text = self._line(deadline)
            if not text or text.rstrip("\r") == reading:  # blank, or the echo
                continue
            if text.startswith(UNSOLICITED) and not _answers(reading, text):
                self.unsolicited.append(text)
                continue
            lines.append(text)
            if text == ">" or FINAL.match(text):
                return lines

    def expect(self, line: str, *answer: str) -> None:
        got = self.command(line)
        assert got == list(answer), f"{line}: {got}"

    def wait_for(self, prefix: str, timeout: float = 15.0) -> str:
        """The first unsolicited report starting with `prefix` (already seen or coming)."""
        deadline = time.monotonic() + timeout
        while True:
            for seen in self.unsolicited:
                if seen.startswith(prefix):
                    self.unsolicited.remove(seen)
                    return seen
            text = self._line(deadline)
            if text:
                self.unsolicited.append(text)

    def wait_for_registration(self, stat: int = 5, timeout: float = 15.0) -> None:
        """Until the modem's LTE registration is `stat` (5, registered roaming, as a Super
        SIM always is; 3, denied). Its reports are turned on, then it is asked once: a
        state reached before the reports were on is in the answer, one reached after
        comes as a report. The reports are off again afterwards."""
        self.expect("AT+CEREG=1", "OK")
        try:
            answer = self.command("AT+CEREG?")
            if answer != [f"+CEREG: 1,{stat}", "OK"]:
                self.wait_for(f"+CEREG: {stat}", timeout)
        finally:
            self.expect("AT+CEREG=0", "OK")
            self.unsolicited = [u for u in self.unsolicited if not u.startswith("+CEREG: ")]


def _answers(reading: str, text: str) -> bool:
    """Whether `text` is the answer to the command line (a read of +CEREG is no report)."""
    name = text.split(":", 1)[0]
    return name.upper() in reading.upper()


@dataclass
class Setup:
    client: Client
    sim: str
    iccid: str
    networks: list[Any] = field(default_factory=list)  # the NAP's, with identifiers
    other: Any = None  # a network outside the NAP


def make_sim(
    client: Client,
    cards: Callable[..., list[Card]],
    clock: Clock,
    *,
    status: str = "active",
    networks: int = 1,
    fleet: dict[str, Any] | None = None,
) -> Setup:
    """A registered Sim in a Fleet whose profile holds `networks` US networks."""
    v1 = client.supersim.v1
    listed = [n for n in v1.networks.list(iso_country="US", limit=20) if n.identifiers]
    chosen, other = listed[:networks], listed[networks]
    nap = v1.network_access_profiles.create(networks=[n.sid for n in chosen])
    made = v1.fleets.create(network_access_profile=nap.sid, **(fleet or {}))
    (card,) = cards(1)
    sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)
    v1.sims(sim.sid).update(fleet=made.sid)
    if status != "new":
        v1.sims(sim.sid).update(status=status)
        clock.advance(seconds=60)
    return Setup(client, sim.sid, card.iccid, chosen, other)


def mccmnc(network: Any) -> str:
    first = network.identifiers[0]
    return f"{first['mcc']}{first['mnc']}"
