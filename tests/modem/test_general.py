"""The command interface (ITU-T V.250, 3GPP TS 27.007 §5, §9): echo, line endings, several
commands on a line, identification, error forms under AT+CMEE=0/1/2."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from twilio.rest import Client

from fleetsim.inventory.service import Card
from fleetsim.testing import Clock, Device
from tests.modem.transcript import Setup, Transcript, make_sim

pytestmark = [pytest.mark.live]


@pytest.fixture
def setup(
    fleetsim_client: Client, fleetsim_cards: Callable[..., list[Card]], fleetsim_clock: Clock
) -> Setup:
    return make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock)


@pytest.fixture
def modem(setup: Setup, fleetsim_modem: Callable[..., tuple[str, int]]) -> Iterator[Transcript]:
    transcript = Transcript(fleetsim_modem(setup.sim))
    yield transcript
    transcript.close()


def test_echo_is_on_until_ate0_and_an_lf_after_cr_is_ignored(modem: Transcript) -> None:
    modem.send("AT\r")
    assert modem.read_raw(b"OK\r\n") == b"AT\r\r\nOK\r\n"
    modem.send("ATE0\r\n")
    assert modem.read_raw(b"OK\r\n") == b"ATE0\r\r\nOK\r\n"
    modem.send("AT\r\nAT\r\n")
    assert modem.read_raw(b"OK\r\n") + modem.read_raw(b"OK\r\n") == b"\r\nOK\r\n" * 2
    modem.expect("at", "OK")
    modem.expect("garbage before the prefix AT", "OK")


def test_identification_and_several_commands_on_a_line(
    modem: Transcript, setup: Setup, fleetsim_device: Callable[[str], Device]
) -> None:
    modem.expect("ATE0", "OK")
    state = fleetsim_device(setup.sim).state()
    modem.expect(
        "AT+CGMI;+CGMM;+CGMR",
        "SIMCOM INCORPORATED",
        "SIMCOM_SIM7080G",
        "Revision:1951B16SIM7080-FLEETSIM",
        "OK",
    )
    modem.expect("AT+CGSN", state["imei"], "OK")
    modem.expect("AT+CGSN=1", f'+CGSN: "{state["imei"]}"', "OK")
    modem.expect("AT+CCID", setup.iccid, "OK")
    modem.expect("AT+CPIN?", "+CPIN: READY", "OK")
    modem.expect("ATI", "SIM7080G 1951B16SIM7080-FLEETSIM", "OK")
    modem.expect("ATE0V1Q0", "OK")
    modem.expect("ATS3?", "013", "OK")


def test_configuration_commands_are_kept_and_read_back(modem: Transcript) -> None:
    modem.expect("ATE0", "OK")
    modem.expect("AT+CNMP?", "+CNMP: 2", "OK")
    modem.expect('AT+CNMP=38;+CMNB=1;+CBANDCFG="CAT-M",2,4,12', "OK")
    modem.expect("AT+CNMP?;+CMNB?", "+CNMP: 38", "+CMNB: 1", "OK")
    modem.expect("AT+CBANDCFG?", '+CBANDCFG: "CAT-M",2,4,12', "OK")


def test_errors_follow_cmee(modem: Transcript) -> None:
    modem.expect("ATE0", "OK")
    modem.expect("AT+CMEE?", "+CMEE: 0", "OK")
    modem.expect("AT+NOSUCH", "ERROR")
    modem.expect("AT+CFUN=9", "ERROR")
    modem.expect("AT+CMEE=1", "OK")
    modem.expect("AT+NOSUCH", "+CME ERROR: 4")
    modem.expect("AT+CFUN=9", "+CME ERROR: 50")
    modem.expect("AT+CMGR=1", "+CMS ERROR: 303")  # text mode is off at power-on
    modem.expect("AT+CMEE=2", "OK")
    modem.expect("AT+NOSUCH", "+CME ERROR: operation not supported")
    modem.expect("AT+CFUN=9", "+CME ERROR: incorrect parameters")
    modem.expect("AT+CMGR=1", "+CMS ERROR: operation not supported")
    modem.expect("AT+CMEE=3", "+CME ERROR: incorrect parameters")
    modem.expect("AT+CMEE=?", "+CMEE: (0-2)", "OK")
    # A failing command ends the line: what follows it does not run.
    modem.expect("AT+CMEE=0;+NOSUCH;+CMEE=1", "ERROR")
    modem.expect("AT+CMEE?", "+CMEE: 0", "OK")
    # Malformed lines.
    modem.expect('AT+COPS=1,2,"310', "ERROR")
    modem.expect("AT+", "ERROR")
    modem.expect("AT&", "ERROR")
    modem.expect("ATZ", "OK")
    modem.send("AT\r")
    assert modem.read_raw(b"OK\r\n") == b"AT\r\r\nOK\r\n"  # ATZ switched echo back on


def test_numeric_and_quiet_result_codes(modem: Transcript) -> None:
    modem.expect("ATE0", "OK")
    modem.send("ATV0\r")
    assert modem.read_raw(b"0\r") == b"0\r"
    modem.send("AT+CGMM;+NOSUCH\r")
    assert modem.read_raw(b"4\r") == b"SIMCOM_SIM7080G\r\n4\r"
    modem.send("ATV1Q1\r")  # V1 answers verbosely; Q1 then silences the result codes
    modem.send("AT+CGMM\r")
    assert modem.read_raw(b"SIMCOM_SIM7080G\r\n") == b"\r\nSIMCOM_SIM7080G\r\n"
    modem.send("ATQ0\r")
    assert modem.read_raw(b"OK\r\n") == b"\r\nOK\r\n"
