"""Network Access Profiles and their Networks subresource, per account."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx

from tests.api.conftest import BASE, Api, Credentials, assert_error

PROFILES = "/v1/NetworkAccessProfiles"
PROFILE_SID = re.compile(r"^HA[0-9a-f]{32}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UNKNOWN_NETWORK = "HW" + "0" * 32


def _post_pairs(
    api: Api, path: str, pairs: list[tuple[str, str]], as_: Credentials | None = None
) -> httpx.Response:
    """POST a form whose keys may repeat (`Networks=HW…&Networks=HW…`)."""
    return api.post(
        path,
        content=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        as_=as_,
    )


def _create(api: Api, **params: str) -> dict[str, Any]:
    response = api.post(PROFILES, data=params)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _profile_sids(api: Api, as_: Credentials | None = None) -> list[str]:
    response = api.get(PROFILES, as_=as_)
    assert response.status_code == 200, response.text
    return [p["sid"] for p in response.json()["network_access_profiles"]]


def _network_sids(api: Api, ref: str) -> list[str]:
    response = api.get(f"{PROFILES}/{ref}/Networks")
    assert response.status_code == 200, response.text
    return [n["sid"] for n in response.json()["networks"]]


# --- create ---------------------------------------------------------------------------


def test_create_empty_profile(api: Api) -> None:
    response = api.post(PROFILES)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        "unique_name", "sid", "account_sid", "date_created", "date_updated", "url", "links"
    }  # fmt: skip
    assert body["unique_name"] is None
    assert PROFILE_SID.match(body["sid"])
    assert body["account_sid"] == api.creds.account_sid
    assert DATE.match(body["date_created"])
    assert body["date_updated"] == body["date_created"]
    assert body["url"] == f"{BASE}{PROFILES}/{body['sid']}"
    assert body["links"] == {"networks": f"{BASE}{PROFILES}/{body['sid']}/Networks"}
    assert _network_sids(api, body["sid"]) == []


def test_create_with_unique_name_and_repeated_networks(api: Api) -> None:
    networks = api.network_sids(3, "US")
    pairs = [("UniqueName", "Pilot"), *(("Networks", sid) for sid in networks)]
    response = _post_pairs(api, PROFILES, pairs)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["unique_name"] == "Pilot"
    assert sorted(_network_sids(api, body["sid"])) == sorted(networks)
    assert sorted(_network_sids(api, "Pilot")) == sorted(networks)


def test_create_with_a_network_listed_twice_is_refused(api: Api) -> None:
    first, second = api.network_sids(2, "US")
    pairs = [("UniqueName", "Twice"), ("Networks", first), ("Networks", second)]
    pairs.append(("Networks", first))
    assert_error(_post_pairs(api, PROFILES, pairs), 400, 20001, "Networks", first)
    assert _profile_sids(api) == []


def test_create_with_an_unknown_network_is_refused(api: Api) -> None:
    (known,) = api.network_sids(1, "US")
    for unknown in (UNKNOWN_NETWORK, "HA" + "1" * 32, "AT&T"):
        pairs = [("UniqueName", "Bad"), ("Networks", known), ("Networks", unknown)]
        assert_error(_post_pairs(api, PROFILES, pairs), 400, 20001, "Networks", unknown)
    assert _profile_sids(api) == []


def test_create_with_a_taken_unique_name_is_409(api: Api) -> None:
    first = _create(api, UniqueName="Pilot")
    response = api.post(PROFILES, data={"UniqueName": "Pilot"})
    assert_error(response, 409, 20409, "Pilot")
    pairs = [("UniqueName", "Pilot"), *(("Networks", sid) for sid in api.network_sids(2))]
    assert_error(_post_pairs(api, PROFILES, pairs), 409, 20409, "Pilot")
    assert _profile_sids(api) == [first["sid"]]
    assert _network_sids(api, "Pilot") == []


def test_unique_name_shaped_like_a_profile_sid_is_refused(api: Api) -> None:
    response = api.post(PROFILES, data={"UniqueName": "HA" + "a" * 32})
    assert_error(response, 400, 20001, "UniqueName")
    assert _profile_sids(api) == []


def test_unique_names_are_per_account(api: Api) -> None:
    _create(api, UniqueName="Pilot")
    other = api.new_account()
    response = api.post(PROFILES, data={"UniqueName": "Pilot"}, as_=other)
    assert response.status_code == 201, response.text
    assert response.json()["account_sid"] == other.account_sid


# --- fetch, update, list --------------------------------------------------------------


def test_fetch_by_sid_and_by_unique_name(api: Api) -> None:
    created = _create(api, UniqueName="Pilot Profile")
    by_sid = api.get(f"{PROFILES}/{created['sid']}")
    by_name = api.get(f"{PROFILES}/Pilot Profile")
    assert by_sid.status_code == by_name.status_code == 200
    assert by_sid.json() == by_name.json() == created


def test_fetch_unknown_profile_is_20404(api: Api) -> None:
    sid = "HA" + "0" * 32
    assert_error(api.get(f"{PROFILES}/{sid}"), 404, 20404, sid)
    assert_error(api.get(f"{PROFILES}/Nobody"), 404, 20404, "Nobody")


def test_update_unique_name(api: Api) -> None:
    created = _create(api, UniqueName="Old")
    api.clock.advance(dt.timedelta(minutes=5))
    response = api.post(f"{PROFILES}/Old", data={"UniqueName": "New"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sid"] == created["sid"]
    assert body["unique_name"] == "New"
    assert body["date_created"] == created["date_created"]
    assert DATE.match(body["date_updated"])
    assert body["date_updated"] > created["date_updated"]
    assert api.get(f"{PROFILES}/New").json() == body
    assert_error(api.get(f"{PROFILES}/Old"), 404, 20404)


def test_update_with_empty_unique_name_clears_it(api: Api) -> None:
    created = _create(api, UniqueName="Pilot")
    response = api.post(f"{PROFILES}/{created['sid']}", data={"UniqueName": ""})
    assert response.status_code == 200, response.text
    assert response.json()["unique_name"] is None
    assert api.get(f"{PROFILES}/{created['sid']}").json()["unique_name"] is None
    assert_error(api.get(f"{PROFILES}/Pilot"), 404, 20404)


def test_update_without_unique_name_keeps_it(api: Api) -> None:
    created = _create(api, UniqueName="Pilot")
    response = api.post(f"{PROFILES}/{created['sid']}")
    assert response.status_code == 200, response.text
    assert response.json()["unique_name"] == "Pilot"
    assert api.get(f"{PROFILES}/Pilot").json()["sid"] == created["sid"]


def test_update_to_a_taken_unique_name_is_409_and_changes_nothing(api: Api) -> None:
    _create(api, UniqueName="Taken")
    created = _create(api, UniqueName="Mine")
    response = api.post(f"{PROFILES}/{created['sid']}", data={"UniqueName": "Taken"})
    assert_error(response, 409, 20409, "Taken")
    assert api.get(f"{PROFILES}/{created['sid']}").json() == created


def test_update_to_a_sid_shaped_unique_name_is_refused(api: Api) -> None:
    created = _create(api, UniqueName="Mine")
    response = api.post(f"{PROFILES}/Mine", data={"UniqueName": "HA" + "b" * 32})
    assert_error(response, 400, 20001, "UniqueName")
    assert api.get(f"{PROFILES}/{created['sid']}").json() == created


def test_update_unknown_profile_is_20404(api: Api) -> None:
    assert_error(api.post(f"{PROFILES}/Nobody", data={"UniqueName": "X"}), 404, 20404)


def test_list_profiles_of_the_account_in_creation_order(api: Api) -> None:
    first = _create(api, UniqueName="First")
    second = _create(api)
    other = api.new_account()
    _post_pairs(api, PROFILES, [("UniqueName", "Theirs")], as_=other)
    response = api.get(PROFILES)
    assert response.status_code == 200
    body = response.json()
    assert body["network_access_profiles"] == [first, second]
    assert body["meta"]["key"] == "network_access_profiles"
    assert body["meta"]["url"] == f"{BASE}{PROFILES}?PageSize=50&Page=0"
    assert body["meta"]["next_page_url"] is None


def test_list_profiles_pages(api: Api) -> None:
    sids = [_create(api)["sid"] for _ in range(3)]
    first = api.get(PROFILES, params={"PageSize": 2}).json()
    assert [p["sid"] for p in first["network_access_profiles"]] == sids[:2]
    second = api.get(first["meta"]["next_page_url"]).json()
    assert [p["sid"] for p in second["network_access_profiles"]] == sids[2:]
    assert second["meta"]["next_page_url"] is None
    assert second["meta"]["page"] == 1


# --- the Networks subresource ---------------------------------------------------------


def test_add_network(api: Api) -> None:
    profile = _create(api)
    (network_sid,) = api.network_sids(1, "US")
    catalogue = api.get(f"/v1/Networks/{network_sid}").json()
    response = api.post(f"{profile['url']}/Networks", data={"Network": network_sid})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {
        "sid": network_sid,
        "network_access_profile_sid": profile["sid"],
        "friendly_name": catalogue["friendly_name"],
        "iso_country": catalogue["iso_country"],
        "identifiers": catalogue["identifiers"],
        "url": f"{BASE}{PROFILES}/{profile['sid']}/Networks/{network_sid}",
    }
    assert profile["links"]["networks"] + f"/{network_sid}" == body["url"]
    assert _network_sids(api, profile["sid"]) == [network_sid]


def test_add_network_to_a_profile_addressed_by_unique_name(api: Api) -> None:
    profile = _create(api, UniqueName="Pilot")
    (network_sid,) = api.network_sids(1, "US")
    response = api.post(f"{PROFILES}/Pilot/Networks", data={"Network": network_sid})
    assert response.status_code == 201, response.text
    assert response.json()["network_access_profile_sid"] == profile["sid"]
    assert response.json()["url"] == f"{BASE}{PROFILES}/{profile['sid']}/Networks/{network_sid}"


def test_add_network_twice_is_409(api: Api) -> None:
    profile = _create(api)
    (network_sid,) = api.network_sids(1, "US")
    path = f"{PROFILES}/{profile['sid']}/Networks"
    assert api.post(path, data={"Network": network_sid}).status_code == 201
    assert_error(api.post(path, data={"Network": network_sid}), 409, 20409, network_sid)
    assert _network_sids(api, profile["sid"]) == [network_sid]


def test_add_unknown_network_is_400(api: Api) -> None:
    profile = _create(api)
    path = f"{PROFILES}/{profile['sid']}/Networks"
    for unknown in (UNKNOWN_NETWORK, profile["sid"], "AT&T"):
        assert_error(api.post(path, data={"Network": unknown}), 400, 20001, "Network", unknown)
    assert _network_sids(api, profile["sid"]) == []


def test_add_without_network_is_20001(api: Api) -> None:
    profile = _create(api)
    response = api.post(f"{PROFILES}/{profile['sid']}/Networks", data={})
    assert_error(response, 400, 20001, "Missing required parameter Network in the post body")
    assert _network_sids(api, profile["sid"]) == []


def test_add_network_to_unknown_profile_is_20404(api: Api) -> None:
    (network_sid,) = api.network_sids(1, "US")
    response = api.post(f"{PROFILES}/Nobody/Networks", data={"Network": network_sid})
    assert_error(response, 404, 20404, "Nobody")


def test_fetch_profile_network(api: Api) -> None:
    first, second = api.network_sids(2, "US")
    profile = _create(api, UniqueName="Pilot")
    added = api.post(f"{PROFILES}/Pilot/Networks", data={"Network": first}).json()
    for ref in (profile["sid"], "Pilot"):
        response = api.get(f"{PROFILES}/{ref}/Networks/{first}")
        assert response.status_code == 200, response.text
        assert response.json() == added
    missing = api.get(f"{PROFILES}/{profile['sid']}/Networks/{second}")
    assert_error(missing, 404, 20404, second)
    assert_error(api.get(f"{PROFILES}/Pilot/Networks/{UNKNOWN_NETWORK}"), 404, 20404)


def test_delete_profile_network(api: Api) -> None:
    first, second = api.network_sids(2, "US")
    profile = _create(api)
    path = f"{PROFILES}/{profile['sid']}/Networks"
    _post_pairs(api, path, [("Network", first)])
    _post_pairs(api, path, [("Network", second)])
    response = api.delete(f"{path}/{first}")
    assert response.status_code == 204
    assert response.content == b""
    assert _network_sids(api, profile["sid"]) == [second]
    assert_error(api.get(f"{path}/{first}"), 404, 20404)
    assert_error(api.delete(f"{path}/{first}"), 404, 20404, first)
    assert_error(api.delete(f"{path}/{UNKNOWN_NETWORK}"), 404, 20404)
    assert _network_sids(api, profile["sid"]) == [second]


def test_list_profile_networks(api: Api) -> None:
    networks = api.network_sids(3, "US")
    profile = _create(api, UniqueName="Pilot")
    for sid in networks:
        assert api.post(f"{PROFILES}/Pilot/Networks", data={"Network": sid}).status_code == 201
    response = api.get(f"{PROFILES}/{profile['sid']}/Networks", params={"PageSize": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["key"] == "networks"
    assert body["meta"]["url"] == f"{BASE}{PROFILES}/{profile['sid']}/Networks?PageSize=2&Page=0"
    rest = api.get(body["meta"]["next_page_url"]).json()
    listed = body["networks"] + rest["networks"]
    assert sorted(n["sid"] for n in listed) == sorted(networks)
    for network in listed:
        assert network["network_access_profile_sid"] == profile["sid"]
        assert network["url"] == f"{profile['links']['networks']}/{network['sid']}"
    assert rest["meta"]["next_page_url"] is None


def test_list_networks_of_unknown_profile_is_20404(api: Api) -> None:
    assert_error(api.get(f"{PROFILES}/Nobody/Networks"), 404, 20404, "Nobody")


# --- other accounts -------------------------------------------------------------------


def test_another_account_cannot_see_or_change_the_profile(api: Api) -> None:
    first, second = api.network_sids(2, "US")
    profile = _create(api, UniqueName="Pilot")
    api.post(f"{PROFILES}/Pilot/Networks", data={"Network": first})
    other = api.new_account()

    for ref in (profile["sid"], "Pilot"):
        assert_error(api.get(f"{PROFILES}/{ref}", as_=other), 404, 20404)
        assert_error(api.get(f"{PROFILES}/{ref}/Networks", as_=other), 404, 20404)
        assert_error(api.get(f"{PROFILES}/{ref}/Networks/{first}", as_=other), 404, 20404)
        response = api.post(f"{PROFILES}/{ref}/Networks", data={"Network": second}, as_=other)
        assert_error(response, 404, 20404)
        assert_error(api.delete(f"{PROFILES}/{ref}/Networks/{first}", as_=other), 404, 20404)
        response = api.post(f"{PROFILES}/{ref}", data={"UniqueName": "Stolen"}, as_=other)
        assert_error(response, 404, 20404)
    assert _profile_sids(api, as_=other) == []

    assert api.get(f"{PROFILES}/{profile['sid']}").json() == profile
    assert _network_sids(api, profile["sid"]) == [first]


def test_api_key_acts_for_its_account(api: Api) -> None:
    key = api.new_api_key()
    response = api.post(PROFILES, data={"UniqueName": "Keyed"}, as_=key)
    assert response.status_code == 201, response.text
    assert response.json()["account_sid"] == api.creds.account_sid
    assert api.get(f"{PROFILES}/Keyed").json() == response.json()
