"""The SIM7080G's application sockets (SIMCom SIM7080 Series AT Command Manual, TCP/UDP
commands): IP Commands travel as UDP between 100.64.0.1 and the device's port in both
directions, their bytes count as the Sim's data, and a blocked Sim's sockets close."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from fleetsim.inventory.service import Card
from fleetsim.testing import Clock, Device, Server
from tests.modem.transcript import Setup, Transcript, make_sim
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.live]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def online(
    client: Client,
    cards: Callable[..., list[Card]],
    clock: Clock,
    modem_at: Callable[..., tuple[str, int]],
    **fleet: object,
) -> tuple[Setup, Transcript]:
    setup = make_sim(client, cards, clock, fleet=dict(fleet))
    modem = Transcript(modem_at(setup.sim))
    modem.expect("ATE0;+CMEE=1", "OK")
    modem.wait_for_registration()
    return setup, modem


def test_ip_commands_travel_as_udp_both_ways_and_count_as_data(
    fleetsim_server: Server,
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_modem: Callable[..., tuple[str, int]],
    fleetsim_device: Callable[[str], Device],
    receiver: Receiver,
) -> None:
    inbound = receiver.url("/ip")
    setup, modem = online(
        fleetsim_client, fleetsim_cards, fleetsim_clock, fleetsim_modem, ip_commands_url=inbound
    )
    v1 = fleetsim_client.supersim.v1
    address = fleetsim_device(setup.sim).state()["ip_address"]
    inactive = '"' + ".".join("0" * 4) + '"'
    modem.expect(
        "AT+CNACT?",
        f"+CNACT: 0,0,{inactive}",
        f"+CNACT: 1,0,{inactive}",
        f"+CNACT: 2,0,{inactive}",
        f"+CNACT: 3,0,{inactive}",
        "OK",
    )
    modem.expect('AT+CASERVER=0,0,"UDP",6969', "+CASERVER: 0,1", "OK")  # no context yet
    modem.expect("AT+CNACT=0,1", "OK")
    assert modem.wait_for("+APP PDP:") == "+APP PDP: 0,ACTIVE"
    assert modem.command("AT+CNACT?")[0] == f'+CNACT: 0,1,"{address}"'
    modem.expect('AT+CASERVER=0,0,"UDP",6969', "+CASERVER: 0,0", "OK")
    modem.expect('AT+CACFG="REMOTEADDR",0,100.64.0.1,6655', "OK")
    modem.expect("AT+CASTATE?", "+CASTATE: 0,2", "OK")
    modem.expect("AT+CARECV=0,100", "+CARECV: 0", "OK")

    # An IP Command to the device's port 6969 reaches the UDP server.
    v1.ip_commands.create(sim=setup.sim, payload="NUM=42", device_port=6969)
    fleetsim_clock.advance(seconds=1)
    assert modem.wait_for("+CANEW:") == "+CANEW: 0,0"
    assert modem.wait_for("+CADATAIND:") == "+CADATAIND: 0"
    modem.expect("AT+CARECV=0,100", "+CARECV: 6,NUM=42", "OK")
    modem.expect("AT+CARECV=0,100", "+CARECV: 0", "OK")
    # The same peer again: data, no new peer.
    v1.ip_commands.create(sim=setup.sim, payload="NUM=7", device_port=6969)
    fleetsim_clock.advance(seconds=1)
    assert modem.wait_for("+CADATAIND:") == "+CADATAIND: 0"
    assert not [u for u in modem.unsolicited if u.startswith("+CANEW")]
    modem.expect("AT+CARECV=0,3", "+CARECV: 3,NUM", "OK")

    # The reply: exactly the announced bytes after the prompt, then OK and +CASEND.
    assert modem.command("AT+CASEND=0,5") == [">"]
    modem.send(b"hello\x1a\r\n")  # a trailing Ctrl-Z, as some firmware sends, is ignored
    assert modem.response() == ["OK"]
    assert modem.wait_for("+CASEND:") == "+CASEND: 0,0,5"
    (reply,) = v1.ip_commands.list(direction="from_sim")
    assert base64.b64decode(reply.payload) == b"hello"
    assert (reply.device_port, reply.status) == (6969, "received")
    fleetsim_clock.advance(seconds=0)
    (webhook,) = receiver.wait_for(1)
    assert webhook.form["IpCommandSid"] == reply.sid
    validator = RequestValidator(fleetsim_server.auth_token)
    assert validator.validate(inbound, webhook.form, webhook.signature)

    # A UDP client socket: sends from its own port, hears IP Commands sent there.
    modem.expect('AT+CAOPEN=1,0,"UDP","100.64.0.1",6655', "+CAOPEN: 1,0", "OK")
    modem.expect('AT+CAOPEN=2,0,"TCP","example.com",80', "+CAOPEN: 2,1", "OK")
    modem.expect('AT+CAOPEN=1,0,"UDP","100.64.0.1",6655', "+CME ERROR: 3")
    assert modem.command("AT+CASEND=1,2") == [">"]
    modem.send(b"hi")
    assert modem.response() == ["OK"]
    assert v1.ip_commands.list(direction="from_sim")[0].device_port == 50001
    v1.ip_commands.create(sim=setup.sim, payload="ack", device_port=50001)
    fleetsim_clock.advance(seconds=1)
    assert modem.wait_for("+CADATAIND:") == "+CADATAIND: 1"
    modem.expect("AT+CARECV=1,100", "+CARECV: 3,ack", "OK")
    modem.expect("AT+CASTATE?", "+CASTATE: 0,2", "+CASTATE: 1,1", "OK")
    modem.expect("AT+CACLOSE=1", "OK")
    modem.expect("AT+CACLOSE=1", "+CME ERROR: 3")
    modem.expect("AT+CASTATE?", "+CASTATE: 0,2", "OK")

    # Every byte is the Sim's data: 6 + 5 + 3 down, 5 + 2 up.
    (usage,) = v1.usage_records.list(sim=setup.sim)
    assert (usage.data_download, usage.data_upload) == (14, 7)
    modem.close()


def test_a_sim_over_its_data_limit_loses_its_sockets(
    fleetsim_server: Server,
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_modem: Callable[..., tuple[str, int]],
    fleetsim_device: Callable[[str], Device],
) -> None:
    setup, modem = online(
        fleetsim_client, fleetsim_cards, fleetsim_clock, fleetsim_modem, data_limit=1
    )
    modem.expect("AT+CNACT=0,1", "OK")
    modem.expect('AT+CASERVER=0,0,"UDP",6969', "+CASERVER: 0,0", "OK")
    fleetsim_device(setup.sim).use_data(download=1_500_000)
    fleetsim_clock.advance(seconds=600)  # the block propagates
    assert fleetsim_device(setup.sim).state()["data_blocked"] is True
    assert modem.wait_for("+CASTATE:") == "+CASTATE: 0,0"
    modem.expect("AT+CASTATE?", "OK")
    modem.expect('AT+CASERVER=0,0,"UDP",6969', "+CASERVER: 0,1", "OK")
    modem.expect('AT+CAOPEN=1,0,"UDP","100.64.0.1",6655', "+CAOPEN: 1,1", "OK")
    modem.expect("AT+CASEND=1,2", "+CME ERROR: 3")
    assert fleetsim_client.supersim.v1.ip_commands.list() == []
    modem.close()
