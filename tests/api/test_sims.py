"""Sims over HTTP: registration, addressing, listing and paging, updates and transfers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import BASE, Api, assert_error
from tests.api.sim_helpers import (
    FORGED_TOKENS,
    fetch,
    new_fleet,
    register,
    register_many,
    sids_of,
    sim_count,
    update,
)

SIM_SID = re.compile(r"^HS[0-9a-f]{32}$")
MISSING_SIM = "HS" + "0" * 32


# --- registration ----------------------------------------------------------------------


def test_register_answers_201_with_a_new_sim(api: Api) -> None:
    (card,) = api.cards(1)
    sim = register(api, card)
    assert SIM_SID.match(sim["sid"])
    assert sim["status"] == "new"
    assert sim["fleet_sid"] is None
    assert sim["unique_name"] is None
    assert sim["iccid"] == card.iccid
    assert sim["account_sid"] == api.creds.account_sid
    assert sim["date_created"] == "2026-01-15T12:00:00Z"
    assert sim["date_updated"] == sim["date_created"]
    url = f"{BASE}/v1/Sims/{sim['sid']}"
    assert sim["url"] == url
    assert sim["links"] == {
        "billing_periods": f"{url}/BillingPeriods",
        "sim_ip_addresses": f"{url}/IpAddresses",
    }
    assert fetch(api, sim["sid"]) == sim


@pytest.mark.parametrize("missing", ["Iccid", "RegistrationCode"])
def test_register_without_a_parameter_is_83001_naming_it(api: Api, missing: str) -> None:
    (card,) = api.cards(1)
    data = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
    del data[missing]
    assert_error(api.post("/v1/Sims", data=data), 400, 83001, missing)
    assert sim_count(api) == 0


@pytest.mark.parametrize("empty", ["Iccid", "RegistrationCode"])
def test_register_with_an_empty_parameter_is_83001_naming_it(api: Api, empty: str) -> None:
    (card,) = api.cards(1)
    data = {"Iccid": card.iccid, "RegistrationCode": card.registration_code, empty: " "}
    assert_error(api.post("/v1/Sims", data=data), 400, 83001, empty)
    assert sim_count(api) == 0


def test_register_with_an_empty_body_is_83001(api: Api) -> None:
    assert_error(api.post("/v1/Sims", data={}), 400, 83001, "Iccid")


def test_register_with_a_wrong_code_is_83002(api: Api) -> None:
    good, other = api.cards(2)
    data = {"Iccid": good.iccid, "RegistrationCode": other.registration_code}
    assert_error(api.post("/v1/Sims", data=data), 400, 83002, "cannot be registered")
    assert sim_count(api) == 0
    register(api, good)  # the card is still registrable with its own code


def test_register_an_unknown_iccid_is_83002(api: Api) -> None:
    (card,) = api.cards(1)
    unknown = "8988307" + "0" * 12 + "1"
    data = {"Iccid": unknown, "RegistrationCode": card.registration_code}
    assert_error(api.post("/v1/Sims", data=data), 400, 83002, "cannot be registered")
    assert sim_count(api) == 0


def test_register_again_in_the_same_account_is_83003_with_the_sid(api: Api) -> None:
    (card,) = api.cards(1)
    sim = register(api, card)
    data = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
    assert_error(api.post("/v1/Sims", data=data), 400, 83003, sim["sid"])
    assert sids_of(api, {}) == [sim["sid"]]


def test_a_card_registered_by_one_account_cannot_be_registered_by_another(api: Api) -> None:
    (card,) = api.cards(1)
    sim = register(api, card)
    other = api.new_account()
    data = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
    body = assert_error(api.post("/v1/Sims", data=data, as_=other), 400, 83002)
    assert sim["sid"] not in body["message"]
    assert sim_count(api, other) == 0
    assert fetch(api, sim["sid"])["account_sid"] == api.creds.account_sid


def test_registration_code_is_case_insensitive(api: Api) -> None:
    (card,) = api.cards(1)
    response = api.post(
        "/v1/Sims", data={"Iccid": card.iccid, "RegistrationCode": card.registration_code.lower()}
    )
    assert response.status_code == 201, response.text
    assert response.json()["iccid"] == card.iccid


# --- fetch -----------------------------------------------------------------------------


def test_fetch_by_sid_and_by_unique_name(api: Api) -> None:
    (sim,) = register_many(api, 1)
    named = api.post(f"/v1/Sims/{sim['sid']}", data={"UniqueName": "tracker-1"})
    assert named.status_code == 200, named.text
    by_sid = fetch(api, sim["sid"])
    by_name = fetch(api, "tracker-1")
    assert by_sid == by_name
    assert by_name["unique_name"] == "tracker-1"
    assert by_name["url"] == f"{BASE}/v1/Sims/{sim['sid']}"  # the URL always uses the SID


def test_fetch_unknown_sim_is_404(api: Api) -> None:
    assert_error(api.get(f"/v1/Sims/{MISSING_SIM}"), 404, 20404, f"/Sims/{MISSING_SIM}")
    assert_error(api.get("/v1/Sims/no-such-name"), 404, 20404, "no-such-name")


def test_another_account_cannot_fetch_a_sim(api: Api) -> None:
    (sim,) = register_many(api, 1)
    update(api, sim["sid"], {"UniqueName": "mine"})
    other = api.new_account()
    assert_error(api.get(f"/v1/Sims/{sim['sid']}", as_=other), 404, 20404, sim["sid"])
    assert_error(api.get("/v1/Sims/mine", as_=other), 404, 20404)
    assert sim_count(api, other) == 0


# --- list ------------------------------------------------------------------------------


def test_list_filters_by_status(api: Api) -> None:
    sims = register_many(api, 2)
    assert sids_of(api, {"Status": "new"}) == [s["sid"] for s in sims]
    assert sids_of(api, {"Status": "active"}) == []
    assert_error(api.get("/v1/Sims", params={"Status": "bogus"}), 400, 20001, "Status")


def test_list_filters_by_fleet_sid_and_unique_name(api: Api) -> None:
    first, second, _ = register_many(api, 3)
    fleet = new_fleet(api, "MyFleet")
    other_fleet = new_fleet(api)
    for sim, target in ((first, fleet), (second, other_fleet)):
        response = api.post(f"/v1/Sims/{sim['sid']}", data={"Fleet": target})
        assert response.status_code == 200, response.text
    assert sids_of(api, {"Fleet": fleet}) == [first["sid"]]
    assert sids_of(api, {"Fleet": "MyFleet"}) == [first["sid"]]
    assert sids_of(api, {"Fleet": other_fleet}) == [second["sid"]]
    assert sids_of(api, {"Fleet": "NoSuchFleet"}) == []
    assert sids_of(api, {"Fleet": "HF" + "0" * 32}) == []


def test_list_filters_by_iccid(api: Api) -> None:
    first, _ = register_many(api, 2)
    assert sids_of(api, {"Iccid": first["iccid"]}) == [first["sid"]]
    (unregistered,) = api.cards(1)
    assert sids_of(api, {"Iccid": unregistered.iccid}) == []


def test_list_is_scoped_to_the_account(api: Api) -> None:
    mine = register_many(api, 2)
    other = api.new_account()
    theirs = register_many(api, 1, as_=other)
    assert sids_of(api, {}) == [s["sid"] for s in mine]
    assert sids_of(api, {}, as_=other) == [s["sid"] for s in theirs]
    assert sids_of(api, {"Iccid": theirs[0]["iccid"]}) == []


def test_paging_visits_every_sim_once_and_walks_back(api: Api) -> None:
    expected = [s["sid"] for s in register_many(api, 5)]
    pages: list[list[str]] = []
    url: str | None = f"{BASE}/v1/Sims?PageSize=2"
    metas: list[dict[str, Any]] = []
    while url is not None:
        body = api.get(url).json()
        pages.append([s["sid"] for s in body["sims"]])
        metas.append(body["meta"])
        url = body["meta"]["next_page_url"]
    assert pages == [expected[0:2], expected[2:4], expected[4:5]]
    assert [m["page"] for m in metas] == [0, 1, 2]
    assert all(m["key"] == "sims" and m["page_size"] == 2 for m in metas)
    assert metas[0]["previous_page_url"] is None
    assert metas[0]["first_page_url"] == f"{BASE}/v1/Sims?PageSize=2&Page=0"
    assert metas[1]["next_page_url"].startswith(f"{BASE}/v1/Sims?PageSize=2&Page=2&PageToken=PA")

    back: list[list[str]] = []
    url = metas[-1]["previous_page_url"]
    while url is not None:
        body = api.get(url).json()
        back.append([s["sid"] for s in body["sims"]])
        url = body["meta"]["previous_page_url"]
    assert back == [expected[2:4], expected[0:2]]


def test_meta_url_echoes_filters_as_supplied(api: Api) -> None:
    fleet = new_fleet(api, "MyFleet")
    body = api.get("/v1/Sims", params={"Status": "new", "Fleet": "MyFleet"}).json()
    meta = body["meta"]
    assert meta["key"] == "sims"
    assert meta["url"] == f"{BASE}/v1/Sims?Status=new&Fleet=MyFleet&PageSize=50&Page=0"
    assert meta["first_page_url"] == meta["url"]
    assert meta["next_page_url"] is None
    assert meta["previous_page_url"] is None
    assert meta["page_size"] == 50
    sid_meta = api.get("/v1/Sims", params={"Fleet": fleet, "PageSize": 3}).json()["meta"]
    assert sid_meta["url"] == f"{BASE}/v1/Sims?Fleet={fleet}&PageSize=3&Page=0"


def test_paging_filters_carry_to_the_next_page(api: Api) -> None:
    sims = register_many(api, 3)
    fleet = new_fleet(api, "MyFleet")
    for sim in sims[:2]:
        update(api, sim["sid"], {"Fleet": fleet})
    first = api.get("/v1/Sims", params={"Fleet": "MyFleet", "PageSize": 1}).json()
    next_url = first["meta"]["next_page_url"]
    assert next_url.startswith(f"{BASE}/v1/Sims?Fleet=MyFleet&PageSize=1&Page=1&PageToken=")
    second = api.get(next_url).json()
    assert [s["sid"] for s in second["sims"]] == [sims[1]["sid"]]
    assert second["meta"]["next_page_url"] is None


def test_forged_page_token_is_21481(api: Api) -> None:
    (sim,) = register_many(api, 1)
    for page_token in FORGED_TOKENS:
        response = api.get("/v1/Sims", params={"PageToken": page_token})
        assert_error(response, 400, 21481, "PageToken")
    assert sids_of(api, {}) == [sim["sid"]]


def test_out_of_range_paging_is_400_naming_the_parameter(api: Api) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"PageSize": 0}, "PageSize"),
        ({"PageSize": 1001}, "PageSize"),
        ({"PageSize": "ten"}, "PageSize"),
        ({"PageSize": ""}, "PageSize"),
        ({"Page": -1}, "Page"),
    ]
    for params, name in cases:
        assert_error(api.get("/v1/Sims", params=params), 400, 20001, name)


def test_page_size_bounds_are_inclusive(api: Api) -> None:
    register_many(api, 2)
    assert len(sids_of(api, {"PageSize": 1})) == 1
    assert len(sids_of(api, {"PageSize": 1000})) == 2
