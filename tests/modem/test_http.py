"""The SIM7080G's HTTP client (SIMCom SIM7080 Series AT Command Manual, HTTP(S)
commands): the modem makes the real request, to destinations the webhook destination
policy allows, and the bytes show in the Sim's UsageRecords."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from twilio.rest import Client

from fleetsim.inventory.service import Card
from fleetsim.testing import Clock
from fleetsim.webhooks.transport import DestinationPolicy
from tests.modem.transcript import Transcript, make_sim
from tests.support.receiver import Receiver, Reply

pytestmark = [pytest.mark.live]

ANSWER = b'{"interval":60}'


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(Reply(200, ANSWER, (("Content-Type", "application/json"),))) as running:
        yield running


def test_an_http_request_through_the_modem_counts_as_data(
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_modem: Callable[..., tuple[str, int]],
    receiver: Receiver,
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock)
    modem = Transcript(fleetsim_modem(setup.sim))
    modem.expect("ATE0;+CMEE=1", "OK")
    modem.wait_for_registration()
    base = receiver.url("").rstrip("/")
    modem.expect(f'AT+SHCONF="URL","{base}";+SHCONF="BODYLEN",1024;+SHCONF="HEADERLEN",350', "OK")
    modem.expect('AT+CSSLCFG="sslversion",1,3;+SHSSL=1,""', "OK")
    modem.expect("AT+SHCONN", "+CME ERROR: 3")  # no data context yet
    modem.expect("AT+CNACT=0,1", "OK")
    modem.expect("AT+SHCONN", "OK")
    modem.expect("AT+SHSTATE?", "+SHSTATE: 1", "OK")
    modem.expect('AT+SHCHEAD;+SHAHEAD="Content-Type","application/json"', "OK")
    assert modem.command("AT+SHBOD=9,10000") == [">"]
    modem.send(b'{"t":215}')
    assert modem.response() == ["OK"]
    modem.expect('AT+SHREQ="/readings?unit=c",3', "OK")
    report = modem.wait_for("+SHREQ:")
    assert report == f'+SHREQ: "POST",200,{len(ANSWER)}'
    (request,) = receiver.wait_for(1)
    assert (request.method, request.path, request.body) == (
        "POST",
        "/readings?unit=c",
        b'{"t":215}',
    )
    assert request.headers["content-type"] == "application/json"
    modem.expect(f"AT+SHREAD=0,{len(ANSWER)}", "OK")
    assert modem.wait_for("+SHREAD:") == f"+SHREAD: {len(ANSWER)}"
    assert modem.wait_for("{") == ANSWER.decode()
    modem.expect("AT+SHREAD=500,10", "+CME ERROR: 3")

    # Form parameters on a GET go in the query.
    modem.expect('AT+SHCPARA;+SHPARA="id","7"', "OK")
    modem.expect('AT+SHREQ="/config",1', "OK")
    assert modem.wait_for("+SHREQ:") == f'+SHREQ: "GET",200,{len(ANSWER)}'
    assert receiver.wait_for(2)[1].path == "/config?id=7"

    modem.expect("AT+SHDISC;+SHSTATE?", "+SHSTATE: 0", "OK")
    modem.expect('AT+SHREQ="/config",1', "+CME ERROR: 3")
    modem.close()

    (usage,) = fleetsim_client.supersim.v1.usage_records.list(sim=setup.sim)
    # Two requests and two answers, each a request/status line, headers and body.
    assert usage.data_upload > len("POST /readings?unit=c HTTP/1.1") + 9 + len("GET /config?id=7")
    assert usage.data_download > 2 * (len(ANSWER) + len("HTTP/1.1 200 OK"))
    assert usage.data_download < 2000


def test_the_destination_policy_keeps_the_modem_off_private_addresses(
    fleetsim_client: Client,
    fleetsim_cards: Callable[..., list[Card]],
    fleetsim_clock: Clock,
    fleetsim_modem: Callable[..., tuple[str, int]],
    receiver: Receiver,
) -> None:
    setup = make_sim(fleetsim_client, fleetsim_cards, fleetsim_clock)
    public = DestinationPolicy.parse("public")
    modem = Transcript(fleetsim_modem(setup.sim, http_policy=public))
    modem.expect("ATE0;+CMEE=1", "OK")
    modem.wait_for_registration()
    modem.expect("AT+CNACT=0,1", "OK")
    modem.expect(f'AT+SHCONF="URL","{receiver.url("").rstrip("/")}"', "OK")
    modem.expect("AT+SHCONN", "+CME ERROR: 3")
    modem.expect('AT+SHCONF="URL","ftp://example.com"', "OK")
    modem.expect("AT+SHCONN", "+CME ERROR: 3")
    modem.close()
    assert receiver.requests == []
