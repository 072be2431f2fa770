"""A user's first session, through the official `twilio` SDK against a live server.

Only `client.supersim.v1` is used, as a user would: no raw HTTP. Each test is one server
start per backend, so a test walks a whole scenario.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException

from tests.contract.conftest import Live

pytestmark = [pytest.mark.live]

UNKNOWN_SIM = "HS" + "0" * 32
UNKNOWN_NETWORK = "HW" + "0" * 32
UNKNOWN_PROFILE = "HA" + "0" * 32


def assert_dates_parsed(instance: Any) -> None:
    """Every date the SDK read is a datetime: twilio falls back to the raw string when the
    server's format is not exactly `%Y-%m-%dT%H:%M:%SZ`."""
    now = dt.datetime.now(dt.UTC)
    dates = {
        name: value
        for name, value in vars(instance).items()
        if name.startswith("date_") or name.endswith("_time")
    }
    for name, value in dates.items():
        assert isinstance(value, dt.datetime), (type(instance).__name__, name, value)
        assert value.tzinfo is not None
        assert abs(now - value) < dt.timedelta(minutes=10), (name, value)


def rest_error(call: Callable[[], Any], status: int, code: int) -> TwilioRestException:
    """The SDK raises TwilioRestException with Twilio's status and code."""
    with pytest.raises(TwilioRestException) as caught:
        call()
    error = caught.value
    assert (error.status, error.code) == (status, code), error.msg
    assert error.msg, "the server's message reaches the exception"
    return error


def test_profile_fleet_and_sims_scenario(live: Live) -> None:
    v1 = live.client.supersim.v1

    networks = v1.networks.list(iso_country="US", limit=3)
    assert len(networks) == 3
    assert {n.iso_country for n in networks} == {"US"}
    assert all(n.sid.startswith("HW") and n.identifiers for n in networks)
    first, second, third = (n.sid for n in networks)
    assert v1.networks(first).fetch().friendly_name == networks[0].friendly_name

    # A Network Access Profile with two networks; a third added, the first removed.
    profile = v1.network_access_profiles.create(
        unique_name="scenario-profile", networks=[first, second]
    )
    assert_dates_parsed(profile)
    assert profile.sid.startswith("HA")
    assert profile.unique_name == "scenario-profile"
    assert profile.account_sid == live.account_sid
    assert profile.links["networks"] == f"{profile.url}/Networks"
    assert {n.sid for n in profile.networks.list()} == {first, second}

    added = v1.network_access_profiles(profile.sid).networks.create(network=third)
    assert (added.sid, added.network_access_profile_sid) == (third, profile.sid)
    fetched_network = v1.network_access_profiles(profile.sid).networks(third).fetch()
    assert fetched_network.identifiers == added.identifiers
    assert v1.network_access_profiles(profile.sid).networks(first).delete() is True
    by_name = v1.network_access_profiles("scenario-profile")
    assert {n.sid for n in by_name.networks.list()} == {second, third}
    assert_dates_parsed(by_name.fetch())

    # A Fleet on that profile, named by the profile's unique name.
    fleet = v1.fleets.create(
        network_access_profile="scenario-profile", unique_name="scenario-fleet"
    )
    assert_dates_parsed(fleet)
    assert fleet.network_access_profile_sid == profile.sid
    assert (fleet.data_enabled, fleet.data_limit, fleet.data_metering) == (True, 1000, "payg")

    # Five cards registered; they start `new`, in no Fleet.
    sims = [
        v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)
        for card in live.cards[:5]
    ]
    for sim, card in zip(sims, live.cards, strict=False):
        assert_dates_parsed(sim)
        assert (sim.iccid, sim.status, sim.fleet_sid) == (card.iccid, "new", None)
        assert sim.account_sid == live.account_sid
    registered = [s.sid for s in sims]

    # `list` follows meta.next_page_url verbatim across three pages of two.
    listed = v1.sims.list(page_size=2)
    assert sorted(s.sid for s in listed) == sorted(registered)
    for sim in listed:
        assert_dates_parsed(sim)

    # The same walk by hand, forwards and back.
    page = v1.sims.page(page_size=2)
    forwards = []
    while True:
        forwards.append([s.sid for s in page])
        following = page.next_page()
        if following is None:
            break
        page = following
    assert [len(p) for p in forwards] == [2, 2, 1]
    assert sorted(sid for p in forwards for sid in p) == sorted(registered)
    backwards = [forwards[-1]]  # a Page is an iterator: the last one is spent
    while (previous := page.previous_page()) is not None:
        page = previous
        backwards.append([s.sid for s in page])
    assert backwards == forwards[::-1]

    # A unique name replaces the SID in the URL.
    renamed = v1.sims(sims[0].sid).update(unique_name="tracker-1")
    assert_dates_parsed(renamed)
    assert renamed.unique_name == "tracker-1"
    by_unique_name = v1.sims("tracker-1").fetch()
    assert (by_unique_name.sid, by_unique_name.iccid) == (sims[0].sid, sims[0].iccid)

    moved = v1.sims("tracker-1").update(fleet="scenario-fleet")
    assert moved.fleet_sid == fleet.sid
    v1.sims(sims[1].sid).update(fleet=fleet.sid)
    # Filters survive into next_page_url: page two holds the second Sim of the Fleet.
    in_fleet = v1.sims.list(fleet="scenario-fleet", page_size=1)
    assert sorted(s.sid for s in in_fleet) == sorted([sims[0].sid, sims[1].sid])
    assert [s.sid for s in v1.sims.list(iccid=sims[1].iccid)] == [sims[1].sid]
    assert v1.sims(sims[1].sid).update(fleet="").fleet_sid is None

    # Fleets are addressed by unique name too.
    updated = v1.fleets("scenario-fleet").update(unique_name="renamed-fleet", data_limit=500)
    assert_dates_parsed(updated)
    assert (updated.sid, updated.unique_name, updated.data_limit) == (
        fleet.sid,
        "renamed-fleet",
        500,
    )
    assert v1.fleets("renamed-fleet").fetch().data_limit == 500
    assert [f.sid for f in v1.fleets.list(network_access_profile=profile.sid)] == [fleet.sid]
    assert [p.sid for p in v1.network_access_profiles.list()] == [profile.sid]

    # Sub-lists of a `new` Sim are empty, but answer.
    assert v1.sims(sims[0].sid).billing_periods.list() == []
    assert v1.sims(sims[0].sid).sim_ip_addresses.list() == []


def test_errors_reach_the_sdk_as_twilio_rest_exceptions(live: Live) -> None:
    v1 = live.client.supersim.v1
    first, second = (n.sid for n in v1.networks.list(iso_country="US", limit=2))
    profile = v1.network_access_profiles.create(unique_name="errors-profile", networks=[first])
    fleet = v1.fleets.create(network_access_profile=profile.sid, unique_name="errors-fleet")
    card, other_card, unregistered = live.cards[:3]
    sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)
    other = v1.sims.create(iccid=other_card.iccid, registration_code=other_card.registration_code)
    v1.sims(sim.sid).update(unique_name="taken")

    # Authentication and lookups.
    wrong_token = live.sdk(live.account_sid, "0" * 32).supersim.v1
    rest_error(lambda: wrong_token.sims(sim.sid).fetch(), 401, 20003)
    rest_error(lambda: wrong_token.fleets.create(network_access_profile=profile.sid), 401, 20003)
    # The SDK's list pages raise the bare TwilioException, with the response attached.
    with pytest.raises(TwilioException) as caught:
        wrong_token.fleets.list()
    assert caught.value.args[1].status_code == 401
    rest_error(lambda: v1.sims(UNKNOWN_SIM).fetch(), 404, 20404)
    rest_error(lambda: v1.sims("no-such-name").fetch(), 404, 20404)

    # Registration.
    error = rest_error(
        lambda: v1.sims.create(iccid=unregistered.iccid, registration_code=values.unset),
        400,
        83001,
    )
    assert "RegistrationCode" in error.msg
    rest_error(
        lambda: v1.sims.create(
            iccid=values.unset, registration_code=unregistered.registration_code
        ),
        400,
        83001,
    )
    rest_error(
        lambda: v1.sims.create(iccid=unregistered.iccid, registration_code="WRONGCODE0"),
        400,
        83002,
    )
    rest_error(
        lambda: v1.sims.create(
            iccid="8988307000000000000", registration_code=unregistered.registration_code
        ),
        400,
        83002,
    )
    error = rest_error(
        lambda: v1.sims.create(iccid=card.iccid, registration_code=card.registration_code),
        400,
        83003,
    )
    assert sim.sid in error.msg

    # Sim updates.
    rest_error(lambda: v1.sims(other.sid).update(unique_name="taken"), 400, 83011)
    rest_error(lambda: v1.sims(other.sid).update(fleet="no-such-fleet"), 400, 83006)
    rest_error(lambda: v1.sims(other.sid).update(fleet="HF" + "0" * 32), 400, 83006)

    # Fleets.
    rest_error(
        lambda: v1.fleets.create(network_access_profile=profile.sid, unique_name="errors-fleet"),
        409,
        20409,
    )
    rest_error(
        lambda: v1.fleets.create(network_access_profile=profile.sid, data_limit=0), 400, 20001
    )
    rest_error(
        lambda: v1.fleets.create(network_access_profile=profile.sid, data_limit=2_000_001),
        400,
        20001,
    )
    rest_error(lambda: v1.fleets(fleet.sid).update(data_limit=0), 400, 20001)
    error = rest_error(lambda: v1.fleets.create(network_access_profile=values.unset), 400, 20001)
    assert "NetworkAccessProfile" in error.msg
    rest_error(lambda: v1.fleets.create(network_access_profile=UNKNOWN_PROFILE), 400, 20001)

    # Network Access Profiles and their networks.
    rest_error(
        lambda: v1.network_access_profiles.create(networks=[first, UNKNOWN_NETWORK]), 400, 20001
    )
    rest_error(
        lambda: v1.network_access_profiles(profile.sid).networks.create(network=UNKNOWN_NETWORK),
        400,
        20001,
    )
    rest_error(
        lambda: v1.network_access_profiles(profile.sid).networks.create(network=first),
        409,
        20409,
    )
    rest_error(
        lambda: v1.network_access_profiles(profile.sid).networks(second).delete(), 404, 20404
    )
    rest_error(lambda: v1.network_access_profiles.create(unique_name="errors-profile"), 409, 20409)

    # Nothing above changed anything.
    assert sorted(s.sid for s in v1.sims.list()) == sorted([sim.sid, other.sid])
    assert [f.sid for f in v1.fleets.list()] == [fleet.sid]
    assert v1.fleets(fleet.sid).fetch().data_limit == 1000
    assert v1.sims(other.sid).fetch().unique_name is None
    assert [p.sid for p in v1.network_access_profiles.list()] == [profile.sid]
    assert [n.sid for n in v1.network_access_profiles(profile.sid).networks.list()] == [first]
