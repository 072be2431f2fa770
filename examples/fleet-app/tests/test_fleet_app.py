"""The fleet application against fleetsim: only the plugin's fixtures, no glue."""

from __future__ import annotations

import pytest
from twilio.rest import Client

from fleet_app import FleetApp


@pytest.fixture
def app(fleetsim_client: Client) -> FleetApp:
    """The application on a Fleet of its own (fleetsim is reset before every test)."""
    v1 = fleetsim_client.supersim.v1
    network = v1.networks.list(iso_country="US", limit=1)[0].sid
    profile = v1.network_access_profiles.create(unique_name="trackers", networks=[network])
    v1.fleets.create(network_access_profile=profile.sid, unique_name="trackers")
    return FleetApp(fleetsim_client, fleet="trackers")


def register(client: Client, cards: list) -> list[str]:
    return [
        client.supersim.v1.sims.create(
            iccid=card.iccid, registration_code=card.registration_code
        ).sid
        for card in cards
    ]


def test_new_sims_join_the_fleet_and_become_active(
    app, fleetsim_client, fleetsim_cards, fleetsim_clock
):
    sims = register(fleetsim_client, fleetsim_cards(3))

    activated = app.activate_new_sims()
    fleetsim_clock.advance(seconds=600)  # activation takes effect a little later

    assert sorted(activated) == sorted(sims)
    for sid in sims:
        sim = fleetsim_client.supersim.v1.sims(sid).fetch()
        assert (sim.status, sim.fleet_sid is not None) == ("active", True)
    assert app.activate_new_sims() == []


def test_a_device_gets_an_answer_to_each_command(
    app, fleetsim_client, fleetsim_cards, fleetsim_clock, fleetsim_device
):
    (sid,) = register(fleetsim_client, fleetsim_cards(1))
    app.activate_new_sims()
    fleetsim_clock.advance(seconds=600)
    device = fleetsim_device(sid)
    device.attach()

    for word in ("ping", "status", "dance"):
        device.send_sms(word)
        fleetsim_clock.advance(seconds=1)
    assert app.answer_commands() == 3
    assert app.answer_commands() == 0
    fleetsim_clock.advance(seconds=60)  # commands reach an attached device

    replies = sorted(message["payload"] for message in device.inbox())
    assert replies == ["PONG", "STATUS active", "UNKNOWN; try PING, STATUS or SLEEP"]


def test_sleep_deactivates_the_sim(
    app, fleetsim_client, fleetsim_cards, fleetsim_clock, fleetsim_device
):
    (sid,) = register(fleetsim_client, fleetsim_cards(1))
    app.activate_new_sims()
    fleetsim_clock.advance(seconds=600)
    fleetsim_device(sid).attach()

    fleetsim_device(sid).send_sms("SLEEP")
    app.answer_commands()
    fleetsim_clock.advance(seconds=600)

    assert fleetsim_client.supersim.v1.sims(sid).fetch().status == "inactive"
