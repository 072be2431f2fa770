"""SMS in text mode (3GPP TS 27.005 §3): sending to 000 after the `>` prompt (an SMS
Command from the Sim, on to the Fleet's webhook, signed), `+CMTI` when an SMS Command
reaches the device, reading, listing and deleting the store."""

from __future__ import annotations

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


@pytest.fixture
def setup(
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    receiver: Receiver,
) -> Setup:
    fleet = {"sms_commands_url": receiver.url("/inbound")}
    return make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock, fleet=fleet)


@pytest.fixture
def modem(setup: Setup, fleetsim_modem: Callable[..., tuple[str, int]]) -> Iterator[Transcript]:
    transcript = Transcript(fleetsim_modem(setup.sim))
    transcript.expect("ATE0", "OK")
    transcript.wait_for_registration()
    yield transcript
    transcript.close()


def test_an_sms_to_000_becomes_an_sms_command_and_reaches_the_webhook_signed(
    modem: Transcript,
    setup: Setup,
    fleetsim_server: Server,
    fleetsim_clock: Clock,
    receiver: Receiver,
) -> None:
    v1 = setup.client.supersim.v1
    modem.expect("AT+CMGF=1", "OK")
    modem.expect("AT+CMGF?", "+CMGF: 1", "OK")
    # The command ends with CR LF: the LF is not part of the text after the prompt.
    modem.send('AT+CMGS="000"\r\n')
    assert modem.read_raw(b"> ") == b"\r\n> "
    modem.send("temp=21.5\x1a")
    assert modem.response() == ["+CMGS: 1", "OK"]
    (command,) = v1.sms_commands.list(direction="from_sim")
    assert (command.payload, command.status, command.sim_sid) == (
        "temp=21.5",
        "received",
        setup.sim,
    )

    fleetsim_clock.advance(seconds=0)
    (webhook,) = receiver.wait_for(1)
    assert webhook.form["SmsCommandSid"] == command.sid
    assert webhook.form["Payload"] == "temp=21.5"
    validator = RequestValidator(fleetsim_server.auth_token)
    assert validator.validate(receiver.url("/inbound"), webhook.form, webhook.signature)

    # ESC abandons the text: nothing is sent.
    assert modem.command('AT+CMGS="000"') == [">"]
    modem.send("never mind\x1b")
    assert modem.response() == ["OK"]
    assert len(v1.sms_commands.list(direction="from_sim")) == 1
    # Backspace edits the text; the message reference counts up.
    assert modem.command('AT+CMGS="000"') == [">"]
    modem.send("ok?\x08!\x1a")
    assert modem.response() == ["+CMGS: 2", "OK"]
    assert v1.sms_commands.list(direction="from_sim")[0].payload == "ok!"
    # Another number is refused by the network.
    modem.expect("AT+CMEE=1", "OK")
    assert modem.command('AT+CMGS="+15551234567"') == [">"]
    modem.send("hello\x1a")
    assert modem.response() == ["+CMS ERROR: 500"]


def test_sms_commands_are_reported_read_listed_and_deleted(
    modem: Transcript,
    setup: Setup,
    fleetsim_clock: Clock,
    fleetsim_device: Callable[[str], Device],
) -> None:
    v1 = setup.client.supersim.v1
    modem.expect("AT+CMGF=1;+CMEE=1", "OK")
    modem.expect("AT+CNMI?", "+CNMI: 2,1,0,0,0", "OK")  # the power-on default: +CMTI on
    v1.sms_commands.create(sim=setup.sim, payload="reboot")
    fleetsim_clock.advance(seconds=1)
    report = modem.wait_for("+CMTI:")
    (stored,) = fleetsim_device(setup.sim).inbox()
    assert report == f'+CMTI: "SM",{stored["index"]}'
    index = stored["index"]
    stamp = "26/" + stored["received_at"][5:10].replace("-", "/") + ","
    stamp += stored["received_at"][11:19] + "+00"

    modem.expect(f"AT+CMGR={index}", f'+CMGR: "REC UNREAD","000",,"{stamp}"', "reboot", "OK")
    modem.expect(f"AT+CMGR={index}", f'+CMGR: "REC READ","000",,"{stamp}"', "reboot", "OK")
    modem.expect("AT+CMGR=999999", "+CMS ERROR: 321")

    v1.sms_commands.create(sim=setup.sim, payload="status?")
    fleetsim_clock.advance(seconds=1)
    second = int(modem.wait_for("+CMTI:").split(",")[1])
    assert second > index
    listed = modem.command('AT+CMGL="ALL"')
    assert listed[0] == f'+CMGL: {index},"REC READ","000",,"{stamp}"'
    assert listed[1:2] == ["reboot"]
    assert listed[2].startswith(f'+CMGL: {second},"REC UNREAD","000",,')
    assert listed[3:] == ["status?", "OK"]
    modem.expect('AT+CMGL="REC UNREAD"', "OK")  # listing read them
    modem.expect("AT+CPMS?", '+CPMS: "SM",2,50,"SM",2,50,"SM",2,50', "OK")

    modem.expect(f"AT+CMGD={index}", "OK")
    modem.expect(f"AT+CMGR={index}", "+CMS ERROR: 321")
    assert [m["payload"] for m in fleetsim_device(setup.sim).inbox()] == ["status?"]

    # Direct delivery of the text (+CMT), then delete everything with AT+CMGD=,4.
    modem.expect("AT+CNMI=2,2,0,0,0", "OK")
    v1.sms_commands.create(sim=setup.sim, payload="direct")
    fleetsim_clock.advance(seconds=1)
    modem.wait_for('+CMT: "000",,')
    assert modem.wait_for("direct") == "direct"
    modem.expect("AT+CMGD=,4", "OK")
    assert fleetsim_device(setup.sim).inbox() == []
    modem.expect('AT+CMGL="ALL"', "OK")
    modem.expect("AT+CMGD=?", "+CMGD: (),(0-4)", "OK")
