"""fleetsim's own pytest plugin, used here as users use it: the fixtures by name only (the
plugin is loaded through its `pytest11` entry point), against a live server per session.

Covers the SDK client (paging, create, an error with its code), the clock handle, the
device handle (attach, data, mobile-originated SMS and UDP), the reset between tests, and
the async client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from fleetsim.inventory.service import Card
from fleetsim.testing import Clock, Device, FleetsimError, KoreClient, Server

pytestmark = [pytest.mark.live]


def make_fleet(client: Client, name: str) -> str:
    v1 = client.supersim.v1
    network = v1.networks.list(iso_country="US", limit=1)[0].sid
    profile = v1.network_access_profiles.create(unique_name=f"{name}-nap", networks=[network])
    return str(v1.fleets.create(network_access_profile=profile.sid, unique_name=name).sid)


def test_the_client_lists_with_paging_creates_and_raises_twilio_errors(
    fleetsim_client: Client,
) -> None:
    v1 = fleetsim_client.supersim.v1
    made = [make_fleet(fleetsim_client, f"fleet-{n}") for n in range(3)]

    listed = [fleet.sid for fleet in v1.fleets.list(page_size=2)]
    first_page = v1.fleets.page(page_size=2)

    assert sorted(listed) == sorted(made)
    assert len(list(first_page)) == 2
    assert first_page.next_page_url is not None
    with pytest.raises(TwilioRestException) as caught:
        v1.fleets("HF" + "0" * 32).fetch()
    assert caught.value.status == 404
    assert caught.value.code == 20404


def test_each_test_starts_from_an_empty_account(
    fleetsim_server: Server, fleetsim_client: Client
) -> None:
    make_fleet(fleetsim_client, "left-behind")
    assert len(fleetsim_client.supersim.v1.fleets.list()) == 1

    fleetsim_server.reset()

    assert fleetsim_client.supersim.v1.fleets.list() == []
    # The credentials survive the reset: the same client keeps working.
    assert fleetsim_client.supersim.v1.network_access_profiles.list() == []


def test_a_sim_activates_on_the_clock_and_its_device_talks(
    fleetsim_client: Client,
    fleetsim_clock: Clock,
    fleetsim_device: Callable[[str], Device],
    fleetsim_cards: Callable[[int], list[Card]],
) -> None:
    v1 = fleetsim_client.supersim.v1
    fleet = make_fleet(fleetsim_client, "devices")
    (card,) = fleetsim_cards(1)
    sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)
    v1.sims(sim.sid).update(fleet=fleet)
    assert v1.sims(sim.sid).update(status="active").status == "scheduled"
    before = fleetsim_clock.now()

    after = fleetsim_clock.advance(dt.timedelta(minutes=5))

    assert after - before == dt.timedelta(minutes=5)
    assert v1.sims(sim.sid).fetch().status == "active"
    device = fleetsim_device(sim.sid)
    assert device.attach()["attached"] is True
    used = device.use_data(upload=1000, download=2000)
    assert (used["counted_upload"], used["counted_download"]) == (1000, 2000)
    sms = device.send_sms("status?")
    udp = device.send_udp("ping", source_port=5000)
    assert (sms["direction"], udp["direction"]) == ("from_sim", "from_sim")
    received = v1.sms_commands.list(sim=sim.sid)
    assert [command.payload for command in received] == ["status?"]
    v1.sms_commands.create(sim=sim.sid, payload="reboot")
    fleetsim_clock.advance(seconds=60)
    assert [message["payload"] for message in device.inbox()] == ["reboot"]


def test_device_errors_carry_the_twilio_code(fleetsim_device: Callable[[str], Device]) -> None:
    with pytest.raises(FleetsimError) as caught:
        fleetsim_device("HS" + "0" * 32).attach()

    assert caught.value.status == 404
    assert caught.value.code == 20404


def test_the_async_client_pages_like_the_sync_one(
    fleetsim_server: Server, fleetsim_client: Client
) -> None:
    made = {make_fleet(fleetsim_client, f"async-{n}") for n in range(3)}
    client = fleetsim_server.async_client()

    async def scenario() -> set[str]:
        fleets = await client.supersim.v1.fleets.list_async(page_size=2)
        return {fleet.sid for fleet in fleets}

    assert asyncio.run(scenario()) == made


def test_the_kore_client_renews_its_token_when_the_clock_expires_it(
    fleetsim_kore_client: KoreClient,
    fleetsim_clock: Clock,
    fleetsim_cards: Callable[..., list[Card]],
) -> None:
    card = fleetsim_cards(1)[0]
    body = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
    created = fleetsim_kore_client.post("/v1/Sims", json=body)
    assert created.status_code == 201, created.text
    assert fleetsim_kore_client.kore_auth.tokens_fetched == 1

    fleetsim_clock.advance(seconds=3600)  # the token's hour is over
    listed = fleetsim_kore_client.get("/v1/Sims", params={"PageSize": 10})

    assert listed.status_code == 200, listed.text
    assert [sim["sid"] for sim in listed.json()["sims"]] == [created.json()["sid"]]
    assert fleetsim_kore_client.kore_auth.tokens_fetched == 2
