"""Fleets: create, fetch, update and list, with Twilio's defaults and per-account scope."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.api.conftest import BASE, Api, Credentials, assert_error

FLEETS = "/v1/Fleets"
FLEET_SID = re.compile(r"^HF[0-9a-f]{32}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FLEET_KEYS = {
    "account_sid", "sid", "unique_name", "data_enabled", "data_limit", "data_metering",
    "date_created", "date_updated", "sms_commands_enabled", "sms_commands_url",
    "sms_commands_method", "ip_commands_url", "ip_commands_method",
    "network_access_profile_sid", "url",
}  # fmt: skip


def _profile(api: Api, unique_name: str = "Profile", as_: Credentials | None = None) -> str:
    response = api.post("/v1/NetworkAccessProfiles", data={"UniqueName": unique_name}, as_=as_)
    assert response.status_code == 201, response.text
    sid: str = response.json()["sid"]
    return sid


def _create(api: Api, as_: Credentials | None = None, **params: str) -> dict[str, Any]:
    response = api.post(FLEETS, data=params, as_=as_)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _fleets(api: Api, as_: Credentials | None = None, **params: str) -> dict[str, Any]:
    response = api.get(FLEETS, params=params, as_=as_)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _fleet_sids(api: Api, as_: Credentials | None = None) -> list[str]:
    return [f["sid"] for f in _fleets(api, as_=as_)["fleets"]]


def _fetch(api: Api, ref: str) -> dict[str, Any]:
    response = api.get(f"{FLEETS}/{ref}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- create ---------------------------------------------------------------------------


def test_create_with_only_a_profile_gives_the_defaults(api: Api) -> None:
    profile_sid = _profile(api, "Pilot")
    for ref in (profile_sid, "Pilot"):
        body = _create(api, NetworkAccessProfile=ref)
        assert set(body) == FLEET_KEYS
        assert FLEET_SID.match(body["sid"])
        assert body["account_sid"] == api.creds.account_sid
        assert body["network_access_profile_sid"] == profile_sid
        assert body["unique_name"] is None
        assert body["data_limit"] == 1000
        assert body["data_enabled"] is True
        assert body["data_metering"] == "payg"
        assert body["sms_commands_enabled"] is True
        assert body["sms_commands_method"] == "POST"
        assert body["ip_commands_method"] == "POST"
        assert body["sms_commands_url"] is None
        assert body["ip_commands_url"] is None
        assert DATE.match(body["date_created"])
        assert body["date_updated"] == body["date_created"]
        assert body["url"] == f"{BASE}{FLEETS}/{body['sid']}"
        assert _fetch(api, body["sid"]) == body


def test_create_with_every_parameter(api: Api) -> None:
    profile_sid = _profile(api)
    body = _create(
        api,
        NetworkAccessProfile=profile_sid,
        UniqueName="Pilot Fleet",
        DataEnabled="false",
        DataLimit="2000000",
        IpCommandsUrl="https://example.com/ip",
        IpCommandsMethod="GET",
        SmsCommandsEnabled="false",
        SmsCommandsUrl="http://example.com/sms?x=1",
        SmsCommandsMethod="GET",
    )
    assert body["unique_name"] == "Pilot Fleet"
    assert body["data_enabled"] is False
    assert body["data_limit"] == 2_000_000
    assert body["data_metering"] == "payg"
    assert body["ip_commands_url"] == "https://example.com/ip"
    assert body["ip_commands_method"] == "GET"
    assert body["sms_commands_enabled"] is False
    assert body["sms_commands_url"] == "http://example.com/sms?x=1"
    assert body["sms_commands_method"] == "GET"
    assert body["network_access_profile_sid"] == profile_sid
    assert _fetch(api, "Pilot Fleet") == body
    assert body["url"] == f"{BASE}{FLEETS}/{body['sid']}"


def test_create_with_data_limit_at_the_lower_bound(api: Api) -> None:
    _profile(api)
    assert _create(api, NetworkAccessProfile="Profile", DataLimit="1")["data_limit"] == 1


def test_create_without_profile_is_20001(api: Api) -> None:
    response = api.post(FLEETS, data={"UniqueName": "Pilot"})
    assert_error(
        response, 400, 20001, "Missing required parameter NetworkAccessProfile in the post body"
    )
    assert _fleet_sids(api) == []


def test_create_with_a_profile_that_does_not_resolve_is_400(api: Api) -> None:
    other = api.new_account()
    foreign_sid = _profile(api, "Theirs", as_=other)
    for ref in ("HA" + "0" * 32, "Nobody", foreign_sid, "Theirs", "HF" + "0" * 32):
        response = api.post(FLEETS, data={"NetworkAccessProfile": ref})
        assert_error(response, 400, 20001, "NetworkAccessProfile", ref)
    assert _fleet_sids(api) == []
    assert _fleet_sids(api, as_=other) == []


def test_create_with_invalid_values_is_400_and_creates_nothing(api: Api) -> None:
    _profile(api)
    invalid = [
        ("DataLimit", "0"),
        ("DataLimit", "2000001"),
        ("DataLimit", "-5"),
        ("DataLimit", "abc"),
        ("DataLimit", "1.5"),
        ("IpCommandsMethod", "PUT"),
        ("SmsCommandsMethod", "PUT"),
        ("DataEnabled", "maybe"),
        ("SmsCommandsEnabled", "maybe"),
        ("IpCommandsUrl", "not-a-url"),
        ("SmsCommandsUrl", "not-a-url"),
        ("SmsCommandsUrl", "ftp://example.com/x"),
        ("UniqueName", "HF" + "c" * 32),
    ]
    for name, value in invalid:
        data = {"NetworkAccessProfile": "Profile", "UniqueName": "Pilot", name: value}
        body = assert_error(api.post(FLEETS, data=data), 400, 20001, name)
        assert body["message"].startswith(f"Invalid parameter {name}"), body
    assert _fleet_sids(api) == []


def test_create_with_a_taken_unique_name_is_409(api: Api) -> None:
    _profile(api)
    first = _create(api, NetworkAccessProfile="Profile", UniqueName="Pilot")
    response = api.post(FLEETS, data={"NetworkAccessProfile": "Profile", "UniqueName": "Pilot"})
    assert_error(response, 409, 20409, "Pilot")
    assert _fleet_sids(api) == [first["sid"]]


def test_unique_names_are_per_account(api: Api) -> None:
    _profile(api)
    _create(api, NetworkAccessProfile="Profile", UniqueName="Pilot")
    other = api.new_account()
    _profile(api, as_=other)
    theirs = _create(api, as_=other, NetworkAccessProfile="Profile", UniqueName="Pilot")
    assert theirs["account_sid"] == other.account_sid


# --- fetch ----------------------------------------------------------------------------


def test_fetch_by_sid_and_unique_name(api: Api) -> None:
    _profile(api)
    created = _create(api, NetworkAccessProfile="Profile", UniqueName="Pilot")
    assert _fetch(api, created["sid"]) == created
    assert _fetch(api, "Pilot") == created


def test_fetch_unknown_fleet_is_20404(api: Api) -> None:
    sid = "HF" + "0" * 32
    assert_error(api.get(f"{FLEETS}/{sid}"), 404, 20404, sid)
    assert_error(api.get(f"{FLEETS}/Nobody"), 404, 20404, "Nobody")


# --- update ---------------------------------------------------------------------------


def test_update_every_mutable_field(api: Api) -> None:
    first_profile = _profile(api, "First")
    second_profile = _profile(api, "Second")
    created = _create(api, NetworkAccessProfile=first_profile, UniqueName="Old")
    changes = [
        ("UniqueName", "New", "unique_name", "New"),
        ("NetworkAccessProfile", "Second", "network_access_profile_sid", second_profile),
        ("NetworkAccessProfile", first_profile, "network_access_profile_sid", first_profile),
        ("DataLimit", "250", "data_limit", 250),
        ("IpCommandsUrl", "https://example.com/ip", "ip_commands_url", "https://example.com/ip"),
        ("IpCommandsMethod", "GET", "ip_commands_method", "GET"),
        ("SmsCommandsUrl", "https://example.com/s", "sms_commands_url", "https://example.com/s"),
        ("SmsCommandsMethod", "GET", "sms_commands_method", "GET"),
    ]
    expected = dict(created)
    for param, value, field, rendered in changes:
        now = api.clock.advance(dt.timedelta(minutes=1))
        response = api.post(f"{FLEETS}/{created['sid']}", data={param: value})
        assert response.status_code == 200, response.text
        expected[field] = rendered
        expected["date_updated"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert response.json() == expected, param
        assert _fetch(api, created["sid"]) == expected, param
    assert expected["date_created"] == created["date_created"]


def test_update_by_unique_name_and_clearing_with_empty_values(api: Api) -> None:
    _profile(api)
    created = _create(
        api,
        NetworkAccessProfile="Profile",
        UniqueName="Pilot",
        IpCommandsUrl="https://example.com/ip",
        SmsCommandsUrl="https://example.com/sms",
    )
    response = api.post(
        f"{FLEETS}/Pilot", data={"UniqueName": "", "IpCommandsUrl": "", "SmsCommandsUrl": ""}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["unique_name"] is None
    assert body["ip_commands_url"] is None
    assert body["sms_commands_url"] is None
    assert _fetch(api, created["sid"]) == body
    assert_error(api.get(f"{FLEETS}/Pilot"), 404, 20404)


def test_update_without_parameters_changes_nothing(api: Api) -> None:
    _profile(api)
    created = _create(api, NetworkAccessProfile="Profile", UniqueName="Pilot", DataLimit="5")
    response = api.post(f"{FLEETS}/Pilot")
    assert response.status_code == 200, response.text
    assert response.json() == created


def test_update_to_a_taken_unique_name_is_409_and_changes_nothing(api: Api) -> None:
    _profile(api)
    _create(api, NetworkAccessProfile="Profile", UniqueName="Taken")
    created = _create(api, NetworkAccessProfile="Profile", UniqueName="Mine")
    api.clock.advance(dt.timedelta(minutes=1))
    response = api.post(f"{FLEETS}/Mine", data={"UniqueName": "Taken", "DataLimit": "7"})
    assert_error(response, 409, 20409, "Taken")
    assert _fetch(api, created["sid"]) == created


def test_update_with_invalid_values_is_400_and_changes_nothing(api: Api) -> None:
    _profile(api)
    created = _create(api, NetworkAccessProfile="Profile", UniqueName="Pilot")
    api.clock.advance(dt.timedelta(minutes=1))
    invalid = [
        ("DataLimit", "0", "DataLimit"),
        ("DataLimit", "2000001", "DataLimit"),
        ("DataLimit", "abc", "DataLimit"),
        ("IpCommandsMethod", "PUT", "IpCommandsMethod"),
        ("SmsCommandsMethod", "PUT", "SmsCommandsMethod"),
        ("IpCommandsUrl", "not-a-url", "IpCommandsUrl"),
        ("SmsCommandsUrl", "not-a-url", "SmsCommandsUrl"),
        ("NetworkAccessProfile", "Nobody", "NetworkAccessProfile"),
        ("NetworkAccessProfile", "", "NetworkAccessProfile"),
        ("UniqueName", "HF" + "d" * 32, "UniqueName"),
    ]
    for param, value, named in invalid:
        # Paired with a valid change, which must not be applied either.
        data = {"SmsCommandsUrl": "https://example.com/changed", param: value}
        if param == "SmsCommandsUrl":
            data["IpCommandsUrl"] = "https://example.com/changed"
        assert_error(api.post(f"{FLEETS}/Pilot", data=data), 400, 20001, named)
    assert _fetch(api, created["sid"]) == created


def test_immutable_fields_are_refused_on_update(api: Api) -> None:
    _profile(api)
    created = _create(api, NetworkAccessProfile="Profile", UniqueName="Pilot")
    api.clock.advance(dt.timedelta(minutes=1))
    for param, value in (
        ("DataEnabled", "false"),
        ("DataEnabled", "true"),
        ("SmsCommandsEnabled", "false"),
        ("DataMetering", "payg"),
    ):
        response = api.post(f"{FLEETS}/Pilot", data={"UniqueName": "Renamed", param: value})
        assert_error(response, 400, 20001, f"Invalid parameter {param}")
    assert _fetch(api, created["sid"]) == created
    assert_error(api.get(f"{FLEETS}/Renamed"), 404, 20404)


def test_update_unknown_fleet_is_20404(api: Api) -> None:
    sid = "HF" + "0" * 32
    assert_error(api.post(f"{FLEETS}/{sid}", data={"DataLimit": "5"}), 404, 20404, sid)


# --- list -----------------------------------------------------------------------------


def test_list_in_creation_order(api: Api) -> None:
    _profile(api)
    created = [_create(api, NetworkAccessProfile="Profile") for _ in range(3)]
    body = _fleets(api)
    assert body["fleets"] == created
    assert body["meta"]["key"] == "fleets"
    assert body["meta"]["url"] == f"{BASE}{FLEETS}?PageSize=50&Page=0"
    page = _fleets(api, PageSize="2")
    assert page["fleets"] == created[:2]
    rest = api.get(page["meta"]["next_page_url"]).json()
    assert rest["fleets"] == created[2:]
    assert rest["meta"]["next_page_url"] is None
    assert api.get(rest["meta"]["previous_page_url"]).json()["fleets"] == created[:2]


def test_list_filtered_by_profile(api: Api) -> None:
    first = _profile(api, "First")
    _profile(api, "Second")
    _profile(api, "Empty")
    a = _create(api, NetworkAccessProfile="First")
    b = _create(api, NetworkAccessProfile="Second")
    c = _create(api, NetworkAccessProfile=first)

    by_sid = _fleets(api, NetworkAccessProfile=first)
    assert by_sid["fleets"] == [a, c]
    assert by_sid["meta"]["url"] == (
        f"{BASE}{FLEETS}?NetworkAccessProfile={first}&PageSize=50&Page=0"
    )
    by_name = _fleets(api, NetworkAccessProfile="Second")
    assert by_name["fleets"] == [b]
    assert by_name["meta"]["url"] == (
        f"{BASE}{FLEETS}?NetworkAccessProfile=Second&PageSize=50&Page=0"
    )
    assert _fleets(api, NetworkAccessProfile="Empty")["fleets"] == []
    for unknown in ("Nobody", "HA" + "0" * 32):
        body = _fleets(api, NetworkAccessProfile=unknown)
        assert body["fleets"] == []
        assert body["meta"]["url"] == (
            f"{BASE}{FLEETS}?NetworkAccessProfile={unknown}&PageSize=50&Page=0"
        )


def test_urls_use_the_host_the_request_was_sent_to(api: Api) -> None:
    _profile(api)
    created = _create(api, NetworkAccessProfile="Profile")
    response = api.get(f"{FLEETS}/{created['sid']}", headers={"Host": "sims.example:8443"})
    assert response.status_code == 200, response.text
    assert response.json()["url"] == f"http://sims.example:8443{FLEETS}/{created['sid']}"
    assert created["url"] == f"{BASE}{FLEETS}/{created['sid']}"


# --- accounts and credentials ---------------------------------------------------------


def test_another_account_cannot_see_or_change_the_fleet(api: Api) -> None:
    profile_sid = _profile(api)
    created = _create(api, NetworkAccessProfile="Profile", UniqueName="Pilot")
    other = api.new_account()
    _profile(api, as_=other)
    for ref in (created["sid"], "Pilot"):
        assert_error(api.get(f"{FLEETS}/{ref}", as_=other), 404, 20404)
        response = api.post(f"{FLEETS}/{ref}", data={"DataLimit": "5"}, as_=other)
        assert_error(response, 404, 20404)
    assert _fleet_sids(api, as_=other) == []
    assert _fleets(api, as_=other, NetworkAccessProfile=profile_sid)["fleets"] == []
    assert _fetch(api, created["sid"]) == created


def test_a_fleet_cannot_use_another_accounts_profile_on_update(api: Api) -> None:
    _profile(api)
    created = _create(api, NetworkAccessProfile="Profile", UniqueName="Pilot")
    other = api.new_account()
    foreign_sid = _profile(api, "Theirs", as_=other)
    for ref in (foreign_sid, "Theirs"):
        response = api.post(f"{FLEETS}/Pilot", data={"NetworkAccessProfile": ref})
        assert_error(response, 400, 20001, "NetworkAccessProfile", ref)
    assert _fetch(api, created["sid"]) == created


def test_api_key_acts_for_its_account(api: Api) -> None:
    key = api.new_api_key()
    _profile(api, "Mine")
    created = _create(api, as_=key, NetworkAccessProfile="Mine", UniqueName="Keyed")
    assert created["account_sid"] == api.creds.account_sid
    assert _fetch(api, "Keyed") == created
    response = api.post(f"{FLEETS}/Keyed", data={"DataLimit": "42"}, as_=key)
    assert response.status_code == 200, response.text
    assert _fetch(api, created["sid"])["data_limit"] == 42
    assert _fleet_sids(api, as_=key) == [created["sid"]]

    other_key = api.new_api_key(api.new_account())
    assert_error(api.get(f"{FLEETS}/Keyed", as_=other_key), 404, 20404)
    assert _fleet_sids(api, as_=other_key) == []
