"""Sim updates: unique names, Fleets, moving Sims between accounts, subresources."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.api.conftest import BASE, Api, assert_error
from tests.api.sim_helpers import (
    FORGED_TOKENS,
    fetch,
    new_fleet,
    register_many,
    sids_of,
    sim_count,
    update,
)

SIM_SID = re.compile(r"^HS[0-9a-f]{32}$")
MISSING_SIM = "HS" + "0" * 32


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
