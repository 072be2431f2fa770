"""The Quectel BG96 profile (Quectel BG96 TCP/IP AT Commands Manual): identification,
the context, a UDP service carrying IP Commands both ways, `+QIURC` reports, and the
sockets closing when the Sim's data is blocked."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from twilio.rest import Client

from fleetsim.inventory.service import Card
from fleetsim.testing import Clock, Device
from tests.modem.transcript import Transcript, make_sim

pytestmark = [pytest.mark.live]


def test_a_bg96_carries_ip_commands_over_a_udp_service(
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_modem: Callable[..., tuple[str, int]],
    fleetsim_device: Callable[[str], Device],
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock, fleet={"data_limit": 1})
    v1 = fleetsim_client.supersim.v1
    modem = Transcript(fleetsim_modem(setup.sim, model="bg96"))
    modem.expect("ATE0;+CMEE=1", "OK")
    modem.expect("ATI", "Quectel", "BG96", "Revision: BG96MAR02A07M1G-FLEETSIM", "OK")
    modem.expect("AT+CGMI;+CGMM", "Quectel", "BG96", "OK")
    modem.expect("AT+QCCID", f"+QCCID: {setup.iccid}", "OK")
    modem.expect('AT+QCFG="nwscanmode",3,1;+QICSGP=1,1,"super","","",1', "OK")
    modem.expect("AT+CASERVER?", "+CME ERROR: 4")  # SIMCom's commands are not a BG96's
    modem.wait_for_registration()
    address = fleetsim_device(setup.sim).state()["ip_address"]

    modem.expect('AT+QIOPEN=1,0,"UDP SERVICE","127.0.0.1",0,6969,0', "OK")
    assert modem.wait_for("+QIOPEN:") == "+QIOPEN: 0,561"  # no context yet
    modem.expect("AT+QIACT=1", "OK")
    modem.expect("AT+QIACT?", f'+QIACT: 1,1,1,"{address}"', "OK")
    modem.expect('AT+QIOPEN=1,0,"UDP SERVICE","127.0.0.1",0,6969,0', "OK")
    assert modem.wait_for("+QIOPEN:") == "+QIOPEN: 0,0"
    modem.expect('AT+QIOPEN=1,1,"TCP","example.com",80,0,0', "OK")
    assert modem.wait_for("+QIOPEN:") == "+QIOPEN: 1,555"
    modem.expect(
        "AT+QISTATE?", '+QISTATE: 0,"UDP SERVICE","127.0.0.1",0,6969,4,1,0,1,"uart1"', "OK"
    )

    v1.ip_commands.create(sim=setup.sim, payload="NUM=42", device_port=6969)
    fleetsim_clock.advance(seconds=1)
    assert modem.wait_for("+QIURC:") == '+QIURC: "recv",0'
    modem.expect("AT+QIRD=0,1500", '+QIRD: 6,"100.64.0.1",6655', "NUM=42", "OK")
    modem.expect("AT+QIRD=0,1500", "+QIRD: 0", "OK")

    assert modem.command('AT+QISEND=0,6,"100.64.0.1",6655') == [">"]
    modem.send(b"ACK 42")
    assert modem.response() == ["SEND OK"]
    (reply,) = v1.ip_commands.list(direction="from_sim")
    assert (base64.b64decode(reply.payload), reply.device_port) == (b"ACK 42", 6969)
    assert modem.command("AT+QISEND=0") == [">"]  # up to Ctrl-Z
    modem.send(b"bye\x1a")
    assert modem.response() == ["SEND OK"]

    # Over the data limit: the network refuses data and the socket closes.
    fleetsim_device(setup.sim).use_data(download=1_500_000)
    fleetsim_clock.advance(seconds=600)
    assert modem.wait_for("+QIURC:") == '+QIURC: "closed",0'
    modem.expect("AT+QISTATE?", "OK")
    modem.expect("AT+QISEND=0,2", "+CME ERROR: 3")
    modem.expect("AT+QICLOSE=0", "OK")
    modem.close()
