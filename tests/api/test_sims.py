"""Sims over HTTP: registration, addressing, listing and paging, updates and transfers."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

import pytest

from fleetsim.inventory.service import Card
from tests.api.conftest import BASE, Api, Credentials, assert_error

SIM_SID = re.compile(r"^HS[0-9a-f]{32}$")
MISSING_SIM = "HS" + "0" * 32


# --- helpers ---------------------------------------------------------------------------


def register(api: Api, card: Card, as_: Credentials | None = None) -> dict[str, Any]:
    response = api.post(
        "/v1/Sims",
        data={"Iccid": card.iccid, "RegistrationCode": card.registration_code},
        as_=as_,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def register_many(api: Api, count: int, as_: Credentials | None = None) -> list[dict[str, Any]]:
    return [register(api, card, as_) for card in api.cards(count)]


def new_fleet(api: Api, unique_name: str | None = None, as_: Credentials | None = None) -> str:
    profile = api.post("/v1/NetworkAccessProfiles", data={}, as_=as_)
    assert profile.status_code == 201, profile.text
    data = {"NetworkAccessProfile": profile.json()["sid"]}
    if unique_name is not None:
        data["UniqueName"] = unique_name
    fleet = api.post("/v1/Fleets", data=data, as_=as_)
    assert fleet.status_code == 201, fleet.text
    sid: str = fleet.json()["sid"]
    return sid


def update(
    api: Api, ref: str, data: dict[str, str], as_: Credentials | None = None
) -> dict[str, Any]:
    response = api.post(f"/v1/Sims/{ref}", data=data, as_=as_)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fetch(api: Api, ref: str, as_: Credentials | None = None) -> dict[str, Any]:
    response = api.get(f"/v1/Sims/{ref}", as_=as_)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sids_of(api: Api, params: dict[str, Any], as_: Credentials | None = None) -> list[str]:
    response = api.get("/v1/Sims", params=params, as_=as_)
    assert response.status_code == 200, response.text
    return [s["sid"] for s in response.json()["sims"]]


def sim_count(api: Api, as_: Credentials | None = None) -> int:
    return len(sids_of(api, {}, as_))


def token(payload: bytes, prefix: str = "PA") -> str:
    return prefix + base64.urlsafe_b64encode(payload).decode().rstrip("=")


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


FORGED_TOKENS = [
    "garbage",
    "PA",
    "PA!!!!",
    "PX" + base64.urlsafe_b64encode(b"[1]").decode(),
    token(b"not json"),
    token(b"{}"),
    token(b"[]"),
    token(b"[1,2]"),
    token(b"[true]"),
    token(b"[null]"),
    token(b"[1.5]"),
    token(b'["abc"]'),
    token(b'["1"]'),
    token(b"[" + b"9" * 30 + b"]"),
    token(b"[" + b"9" * 30 + b"]", "PB"),
    "PA" + "A" * 600,
]


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


# --- update: unique name and fleet -----------------------------------------------------


def test_update_unique_name_and_clear_it(api: Api) -> None:
    (sim,) = register_many(api, 1)
    api.clock.advance(dt.timedelta(seconds=60))
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"UniqueName": "tracker"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["unique_name"] == "tracker"
    assert body["date_updated"] == "2026-01-15T12:01:00Z"
    assert body["date_created"] == sim["date_created"]
    cleared = api.post(f"/v1/Sims/{sim['sid']}", data={"UniqueName": ""})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["unique_name"] is None
    assert_error(api.get("/v1/Sims/tracker"), 404, 20404)


def test_duplicate_unique_name_is_83011(api: Api) -> None:
    first, second = register_many(api, 2)
    assert api.post(f"/v1/Sims/{first['sid']}", data={"UniqueName": "dup"}).status_code == 200
    response = api.post(f"/v1/Sims/{second['sid']}", data={"UniqueName": "dup"})
    assert_error(response, 400, 83011, "dup")
    assert fetch(api, second["sid"]) == second
    assert fetch(api, "dup")["sid"] == first["sid"]
    # Renaming a Sim to its own name is not a duplicate.
    again = api.post(f"/v1/Sims/{first['sid']}", data={"UniqueName": "dup"})
    assert again.status_code == 200, again.text


def test_the_same_unique_name_may_be_used_in_another_account(api: Api) -> None:
    (mine,) = register_many(api, 1)
    other = api.new_account()
    (theirs,) = register_many(api, 1, as_=other)
    assert api.post(f"/v1/Sims/{mine['sid']}", data={"UniqueName": "n"}).status_code == 200
    response = api.post(f"/v1/Sims/{theirs['sid']}", data={"UniqueName": "n"}, as_=other)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("unique_name", "word"),
    [("HS" + "a" * 32, "SID"), ("x" * 257, "256")],
)
def test_invalid_unique_name_is_400(api: Api, unique_name: str, word: str) -> None:
    (sim,) = register_many(api, 1)
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"UniqueName": unique_name})
    assert_error(response, 400, 20001, "UniqueName", word)
    assert fetch(api, sim["sid"]) == sim


def test_update_unknown_sim_is_404(api: Api) -> None:
    response = api.post(f"/v1/Sims/{MISSING_SIM}", data={"UniqueName": "x"})
    assert_error(response, 404, 20404, MISSING_SIM)


def test_another_account_cannot_update_a_sim(api: Api) -> None:
    (sim,) = register_many(api, 1)
    other = api.new_account()
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"UniqueName": "stolen"}, as_=other)
    assert_error(response, 404, 20404)
    assert fetch(api, sim["sid"]) == sim


def test_update_fleet_by_sid_and_unique_name_and_remove_it(api: Api) -> None:
    (sim,) = register_many(api, 1)
    fleet = new_fleet(api, "MyFleet")
    by_sid = api.post(f"/v1/Sims/{sim['sid']}", data={"Fleet": fleet})
    assert by_sid.status_code == 200, by_sid.text
    assert by_sid.json()["fleet_sid"] == fleet
    removed = api.post(f"/v1/Sims/{sim['sid']}", data={"Fleet": ""})
    assert removed.status_code == 200, removed.text
    assert removed.json()["fleet_sid"] is None
    by_name = api.post(f"/v1/Sims/{sim['sid']}", data={"Fleet": "MyFleet"})
    assert by_name.status_code == 200, by_name.text
    assert by_name.json()["fleet_sid"] == fleet
    assert fetch(api, sim["sid"])["fleet_sid"] == fleet


@pytest.mark.parametrize("ref", ["NoSuchFleet", "HF" + "0" * 32])
def test_unknown_fleet_is_83006(api: Api, ref: str) -> None:
    (sim,) = register_many(api, 1)
    fleet = new_fleet(api)
    update(api, sim["sid"], {"Fleet": fleet})
    before = fetch(api, sim["sid"])
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"Fleet": ref, "UniqueName": "n"})
    assert_error(response, 400, 83006, ref)
    assert fetch(api, sim["sid"]) == before


def test_another_accounts_fleet_is_83006(api: Api) -> None:
    (sim,) = register_many(api, 1)
    other = api.new_account()
    theirs = new_fleet(api, "TheirFleet", as_=other)
    for ref in (theirs, "TheirFleet"):
        response = api.post(f"/v1/Sims/{sim['sid']}", data={"Fleet": ref})
        assert_error(response, 400, 83006, ref)
    assert fetch(api, sim["sid"]) == sim


def test_update_with_no_parameters_changes_nothing_visible(api: Api) -> None:
    (sim,) = register_many(api, 1)
    response = api.post(f"/v1/Sims/{sim['sid']}", data={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "date_updated"} == {
        k: v for k, v in sim.items() if k != "date_updated"
    }


# --- update: transfers -----------------------------------------------------------------


def test_transfer_to_a_subaccount(api: Api) -> None:
    (sim,) = register_many(api, 1)
    fleet = new_fleet(api)
    update(api, sim["sid"], {"Fleet": fleet, "UniqueName": "moving"})
    sub = api.new_account(parent=api.creds)
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"AccountSid": sub.account_sid})
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["account_sid"] == sub.account_sid
    assert moved["fleet_sid"] is None
    assert moved["unique_name"] == "moving"
    assert_error(api.get(f"/v1/Sims/{sim['sid']}"), 404, 20404)
    assert sim_count(api) == 0
    assert fetch(api, sim["sid"], as_=sub) == moved
    assert fetch(api, "moving", as_=sub)["sid"] == sim["sid"]
    assert sids_of(api, {}, as_=sub) == [sim["sid"]]


def test_transfer_accepts_an_upper_case_account_sid(api: Api) -> None:
    sub = api.new_account(parent=api.creds)
    (sim,) = register_many(api, 1)
    upper = "AC" + sub.account_sid[2:].upper()
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"AccountSid": upper})
    assert response.status_code == 200, response.text
    assert response.json()["account_sid"] == sub.account_sid


def test_transfer_with_a_fleet_resolves_it_in_the_target_account(api: Api) -> None:
    (sim,) = register_many(api, 1)
    sub = api.new_account(parent=api.creds)
    new_fleet(api, "Shared")  # the parent's namesake must not be chosen
    target = new_fleet(api, "Shared", as_=sub)
    data = {"AccountSid": sub.account_sid, "Fleet": "Shared"}
    response = api.post(f"/v1/Sims/{sim['sid']}", data=data)
    assert response.status_code == 200, response.text
    assert response.json()["fleet_sid"] == target
    assert fetch(api, sim["sid"], as_=sub)["fleet_sid"] == target


def test_transfer_with_a_fleet_of_the_source_account_is_83006(api: Api) -> None:
    (sim,) = register_many(api, 1)
    sub = api.new_account(parent=api.creds)
    parents = new_fleet(api, "ParentOnly")
    for ref in (parents, "ParentOnly"):
        data = {"AccountSid": sub.account_sid, "Fleet": ref}
        assert_error(api.post(f"/v1/Sims/{sim['sid']}", data=data), 400, 83006, ref)
    assert fetch(api, sim["sid"]) == sim
    assert sim_count(api, sub) == 0


def test_transfer_into_a_unique_name_clash_is_83011(api: Api) -> None:
    (sim,) = register_many(api, 1)
    sub = api.new_account(parent=api.creds)
    (sub_sim,) = register_many(api, 1, as_=sub)
    update(api, sub_sim["sid"], {"UniqueName": "clash"}, as_=sub)
    update(api, sim["sid"], {"UniqueName": "clash"})
    before = fetch(api, sim["sid"])
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"AccountSid": sub.account_sid})
    assert_error(response, 400, 83011, "clash")
    assert fetch(api, sim["sid"]) == before
    assert sids_of(api, {}, as_=sub) == [sub_sim["sid"]]


def test_transfer_to_an_account_that_is_not_a_subaccount_is_400(api: Api) -> None:
    (sim,) = register_many(api, 1)
    sub = api.new_account(parent=api.creds)
    targets = [
        api.new_account().account_sid,  # unrelated
        api.new_account(parent=sub).account_sid,  # a grandchild is not a subaccount
        "AC" + "0" * 32,  # unknown
        "not-an-account",
        "",
    ]
    for target in targets:
        response = api.post(f"/v1/Sims/{sim['sid']}", data={"AccountSid": target})
        assert_error(response, 400, 20001, "AccountSid")
    assert fetch(api, sim["sid"]) == sim


def test_a_subaccount_cannot_move_a_sim_to_its_parent(api: Api) -> None:
    sub = api.new_account(parent=api.creds)
    (sim,) = register_many(api, 1, as_=sub)
    response = api.post(
        f"/v1/Sims/{sim['sid']}", data={"AccountSid": api.creds.account_sid}, as_=sub
    )
    assert_error(response, 400, 20001, "AccountSid")
    assert fetch(api, sim["sid"], as_=sub) == sim
    assert sim_count(api) == 0


def test_transfer_to_self_is_a_no_op(api: Api) -> None:
    (sim,) = register_many(api, 1)
    fleet = new_fleet(api)
    update(api, sim["sid"], {"Fleet": fleet})
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"AccountSid": api.creds.account_sid})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["account_sid"] == api.creds.account_sid
    assert body["fleet_sid"] == fleet
    assert fetch(api, sim["sid"])["fleet_sid"] == fleet


def test_api_key_of_the_parent_can_transfer(api: Api) -> None:
    (sim,) = register_many(api, 1)
    sub = api.new_account(parent=api.creds)
    key = api.new_api_key()
    response = api.post(f"/v1/Sims/{sim['sid']}", data={"AccountSid": sub.account_sid}, as_=key)
    assert response.status_code == 200, response.text
    assert response.json()["account_sid"] == sub.account_sid


# --- subresources ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key"), [("BillingPeriods", "billing_periods"), ("IpAddresses", "ip_addresses")]
)
def test_subresources_are_empty_pages(api: Api, path: str, key: str) -> None:
    (sim,) = register_many(api, 1)
    update(api, sim["sid"], {"UniqueName": "named"})
    for ref in (sim["sid"], "named"):
        response = api.get(f"/v1/Sims/{ref}/{path}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body[key] == []
        meta = body["meta"]
        assert meta["key"] == key
        assert meta["url"] == f"{BASE}/v1/Sims/{sim['sid']}/{path}?PageSize=50&Page=0"
        assert meta["next_page_url"] is None
        assert meta["previous_page_url"] is None


@pytest.mark.parametrize("path", ["BillingPeriods", "IpAddresses"])
def test_subresources_of_an_unknown_or_foreign_sim_are_404(api: Api, path: str) -> None:
    assert_error(api.get(f"/v1/Sims/{MISSING_SIM}/{path}"), 404, 20404, MISSING_SIM)
    (sim,) = register_many(api, 1)
    other = api.new_account()
    assert_error(api.get(f"/v1/Sims/{sim['sid']}/{path}", as_=other), 404, 20404)
    assert_error(api.get(f"/v1/Sims/{sim['sid']}/{path}", params={"PageSize": 0}), 400, 20001)


@pytest.mark.parametrize("path", ["BillingPeriods", "IpAddresses"])
def test_subresources_refuse_forged_page_tokens(api: Api, path: str) -> None:
    (sim,) = register_many(api, 1)
    for page_token in FORGED_TOKENS:
        response = api.get(f"/v1/Sims/{sim['sid']}/{path}", params={"PageToken": page_token})
        assert_error(response, 400, 21481, "PageToken")
