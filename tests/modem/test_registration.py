"""Network registration (3GPP TS 27.007 §7.2, §7.3, §7.5, §10.1): automatic registration
at power-on, reports, denial for a `new` Sim and for a network outside the profile,
registration after activation, the radio off, the packet domain."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

import pytest
from twilio.rest import Client

from fleetsim.inventory.service import Card
from fleetsim.testing import Clock, Device, Server
from tests.modem.transcript import Transcript, make_sim, mccmnc

pytestmark = [pytest.mark.live]

Modem = Callable[..., tuple[str, int]]


@pytest.fixture
def connect(fleetsim_modem: Modem) -> Iterator[Callable[[str], Transcript]]:
    opened: list[Transcript] = []

    def open_modem(sim: str) -> Transcript:
        transcript = Transcript(fleetsim_modem(sim))
        opened.append(transcript)
        transcript.expect("ATE0", "OK")
        return transcript

    yield open_modem
    for transcript in opened:
        transcript.close()


def test_an_active_sim_registers_at_power_on(
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_device: Callable[[str], Device],
    connect: Callable[[str], Transcript],
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock, networks=2)
    modem = connect(setup.sim)
    modem.wait_for_registration()
    state = fleetsim_device(setup.sim).state()
    assert state["state"] == "attached"
    first = setup.networks[0]
    assert state["network_sid"] == first.sid
    modem.expect("AT+CREG?;+CGREG?", "+CREG: 0,5", "+CGREG: 0,5", "OK")
    modem.expect("AT+COPS?", f'+COPS: 0,0,"{first.friendly_name}",7', "OK")
    modem.expect("AT+COPS=3,2;+COPS?", f'+COPS: 0,2,"{mccmnc(first)}",7', "OK")
    assert ipaddress.IPv4Address(state["ip_address"]) in ipaddress.IPv4Network("100.64.0.0/10")
    modem.expect("AT+CGPADDR=1", f'+CGPADDR: 1,"{state["ip_address"]}"', "OK")
    modem.expect("AT+CGATT?", "+CGATT: 1", "OK")
    modem.expect("AT+CGACT?", "+CGACT: 1,1", "OK")
    modem.expect("AT+CGDCONT?", '+CGDCONT: 1,"IP","super","0.0.0.0",0,0,0,0', "OK")
    modem.expect('AT+CGDCONT=1,"IP","super"', "OK")
    modem.expect("AT+CSQ", "+CSQ: 20,99", "OK")
    modem.expect("AT+CGNAPN", '+CGNAPN: 1,"super"', "OK")
    (cpsi,) = modem.command("AT+CPSI?")[:-1]
    code = mccmnc(first)
    assert cpsi.startswith(f"+CPSI: LTE CAT-M1,Online,{code[:3]}-{code[3:]},0x")
    listed = modem.command("AT+COPS=?")
    second = setup.networks[1]
    assert listed == [
        f'+COPS: (2,"{first.friendly_name}","{first.friendly_name[:16]}","{mccmnc(first)}",7),'
        f'(1,"{second.friendly_name}","{second.friendly_name[:16]}","{mccmnc(second)}",7),'
        ",(0-4),(0-2)",
        "OK",
    ]
    # Reports with the cell: <tac>,<ci>,<AcT>.
    modem.expect("AT+CEREG=2", "OK")
    (read,) = modem.command("AT+CEREG?")[:-1]
    assert read.startswith("+CEREG: 2,5,")
    assert read.endswith(",7")

    # The radio off detaches; on again, the modem registers by itself.
    modem.expect("AT+CEREG=1;+CFUN=0", "OK")
    assert modem.wait_for("+CEREG: ") == "+CEREG: 0"
    assert fleetsim_device(setup.sim).state()["state"] == "detached"
    modem.expect("AT+CSQ;+CGATT?", "+CSQ: 99,99", "+CGATT: 0", "OK")
    modem.expect("AT+CPSI?", "+CPSI: NO SERVICE,Offline", "OK")
    modem.expect("AT+CGPADDR", "+CGPADDR: 1", "OK")
    modem.expect("AT+CFUN=1", "OK")
    assert modem.wait_for("+CEREG: ") == "+CEREG: 2"
    assert modem.wait_for("+CEREG: ") == "+CEREG: 5"
    assert fleetsim_device(setup.sim).state()["state"] == "attached"

    # A detach made elsewhere is a lost registration, and automatic selection returns.
    fleetsim_device(setup.sim).detach()
    assert modem.wait_for("+CEREG: ") == "+CEREG: 2"
    assert modem.wait_for("+CEREG: ") == "+CEREG: 5"

    # Manual selection of the profile's second network.
    modem.expect(f'AT+COPS=1,2,"{mccmnc(second)}"', "OK")
    assert fleetsim_device(setup.sim).state()["network_sid"] == second.sid
    modem.expect("AT+COPS?", f'+COPS: 1,2,"{mccmnc(second)}",7', "OK")
    modem.expect("AT+CGATT=0", "OK")
    assert modem.wait_for("+CEREG: ") == "+CEREG: 0"
    assert fleetsim_device(setup.sim).state()["state"] == "detached"
    modem.expect("AT+CGATT=1;+CGATT?", "+CGATT: 1", "OK")
    assert fleetsim_device(setup.sim).state()["network_sid"] == second.sid


def test_a_network_outside_the_profile_is_denied(
    fleetsim_server: Server,
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_device: Callable[[str], Device],
    connect: Callable[[str], Transcript],
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock)
    modem = connect(setup.sim)
    modem.wait_for_registration()
    modem.expect("AT+CMEE=1;+CEREG=1", "OK")
    modem.expect(f'AT+COPS=1,2,"{mccmnc(setup.other)}"', "+CME ERROR: 111")
    assert modem.wait_for("+CEREG: ") == "+CEREG: 3"
    assert fleetsim_device(setup.sim).state()["state"] == "detached"
    modem.expect("AT+COPS?", "+COPS: 1", "OK")
    modem.expect('AT+COPS=1,2,"99999"', "+CME ERROR: 111")  # no such network
    modem.expect('AT+COPS=1,2,"31x"', "+CME ERROR: 50")
    modem.expect("AT+COPS=0", "OK")
    assert modem.wait_for("+CEREG: ") == "+CEREG: 2"
    assert modem.wait_for("+CEREG: ") == "+CEREG: 5"
    assert fleetsim_device(setup.sim).state()["network_sid"] == setup.networks[0].sid
    events = fleetsim_server.request("GET", f"/devices/{setup.sim}/events")
    rejected = [
        e["data"]["error"]
        for e in events["connection_events"]
        if e["event_type"].endswith("attachment.rejected")
    ]
    assert rejected[0]["code"] == 83702


def test_a_new_sim_is_denied_until_it_is_activated(
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_device: Callable[[str], Device],
    connect: Callable[[str], Transcript],
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock, status="new")
    modem = connect(setup.sim)
    modem.wait_for_registration(stat=3)
    modem.expect("AT+CMEE=2", "OK")
    modem.expect("AT+CGATT=1", "+CME ERROR: GPRS services not allowed")
    modem.expect("AT+CGATT?;+CGPADDR", "+CGATT: 0", "+CGPADDR: 1", "OK")
    modem.expect('AT+CMGF=1;+CMGS="000"', "+CMS ERROR: no network service")
    modem.expect("AT+CEREG=1", "OK")

    fleetsim_client.supersim.v1.sims(setup.sim).update(status="active")
    fleetsim_clock.advance(seconds=60)

    assert modem.wait_for("+CEREG: ") == "+CEREG: 5"
    assert fleetsim_device(setup.sim).state()["state"] == "attached"


def test_an_inactive_sim_is_denied(
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_device: Callable[[str], Device],
    connect: Callable[[str], Transcript],
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock, status="inactive")
    modem = connect(setup.sim)
    modem.wait_for_registration(stat=3)
    modem.expect("AT+CMEE=1;+CGATT=1", "+CME ERROR: 107")
    modem.expect("AT+COPS?", "+COPS: 0", "OK")
    assert fleetsim_device(setup.sim).state()["state"] == "detached"
