"""eSIM Profiles over HTTP on the frozen clock: reservation through `new` -> `reserving`
-> `available` by the engine, the Sim made at `available`, the signed callback, the
activation-code flow, the stock and 83500, listing, and the simulated SM-DP+ (download,
install, and each way they fail)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from fleetsim.contract import schema_properties
from fleetsim.core.dates import iso
from fleetsim.resources.esim_profiles.lifecycle import SMDP_PLUS_ADDRESS
from fleetsim.resources.esim_profiles.stock import DEFAULT_STOCK
from tests.api.conftest import Api, assert_error
from tests.api.network_fixtures import advance
from tests.support.receiver import Receiver

PROFILES = "/v1/ESimProfiles"
KEYS = set(schema_properties("supersim.v1.esim_profile"))
EID = "89049032005008882600033489000001"
OTHER_EID = "89049032005008882600033489000002"
MATCHING_ID = re.compile(r"^[A-Z2-9]{5}(-[A-Z2-9]{5}){4}$")
STEP = 2  # the esim_profile lifecycle's default delay, in seconds


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def create(api: Api, **data: str) -> dict[str, Any]:
    response = api.post(PROFILES, data=data)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == KEYS
    return body


def fetch(api: Api, sid: str) -> dict[str, Any]:
    response = api.get(f"{PROFILES}/{sid}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def available(api: Api, **data: str) -> dict[str, Any]:
    profile = create(api, **data)
    advance(api, 2 * STEP)
    body = fetch(api, profile["sid"])
    assert body["status"] == "available"
    return body


def sids(api: Api, **params: str) -> list[str]:
    response = api.get(PROFILES, params=params)
    assert response.status_code == 200, response.text
    return [p["sid"] for p in response.json()["esim_profiles"]]


def test_a_profile_is_reserved_then_available_with_a_new_sim_and_a_signed_callback(
    api: Api, receiver: Receiver
) -> None:
    url = receiver.url("/esim")
    created = create(api, Eid=EID, CallbackUrl=url)
    assert created["sid"].startswith("HP")
    assert created["account_sid"] == api.creds.account_sid
    assert created["status"] == "new"
    assert created["eid"] == EID
    for empty in ("iccid", "sim_sid", "smdp_plus_address", "matching_id", "activation_code"):
        assert created[empty] is None, empty
    assert (created["error_code"], created["error_message"]) == (None, None)
    assert created["date_created"] == created["date_updated"] == iso(api.clock.now())
    assert created["url"] == f"http://fleetsim.test{PROFILES}/{created['sid']}"
    assert fetch(api, created["sid"]) == created

    advance(api, STEP)
    reserving = fetch(api, created["sid"])
    assert reserving["status"] == "reserving"
    assert reserving["sim_sid"] is None
    assert receiver.requests == []  # called only on reserving -> available

    advance(api, STEP)
    profile = fetch(api, created["sid"])
    assert profile["status"] == "available"
    assert profile["smdp_plus_address"] == SMDP_PLUS_ADDRESS
    assert (profile["matching_id"], profile["activation_code"]) == (None, None)
    assert profile["date_updated"] == iso(api.clock.now())
    sim = api.get(f"/v1/Sims/{profile['sim_sid']}").json()
    assert (sim["status"], sim["iccid"], sim["fleet_sid"]) == ("new", profile["iccid"], None)
    assert sim["account_sid"] == api.creds.account_sid

    (request,) = receiver.wait_for(1)
    assert request.method == "POST"
    assert RequestValidator(api.creds.password).validate(url, request.form, request.signature)
    assert not RequestValidator("0" * 32).validate(url, request.form, request.signature)
    assert request.form["ESimProfileSid"] == profile["sid"]
    assert request.form["Status"] == "available"
    assert request.form["SimSid"] == profile["sim_sid"]
    assert request.form["Iccid"] == profile["iccid"]
    assert request.form["Eid"] == EID
    assert request.form["AccountSid"] == api.creds.account_sid


def test_the_sim_made_for_a_profile_works_like_any_other(api: Api) -> None:
    profile = available(api, Eid=EID)
    sim = profile["sim_sid"]
    network = api.network_sids(1)
    nap = api.post("/v1/NetworkAccessProfiles", data={"Networks": network}).json()["sid"]
    fleet = api.post("/v1/Fleets", data={"NetworkAccessProfile": nap}).json()["sid"]
    activating = api.post(f"/v1/Sims/{sim}", data={"Fleet": fleet, "Status": "active"})
    assert activating.status_code == 202, activating.text
    advance(api, 10)
    assert api.get(f"/v1/Sims/{sim}").json()["status"] == "active"
    attached = api.post(f"/devices/{sim}/attach", data={"Network": network[0]}).json()
    assert attached["attached"] is True, attached
    assert api.get("/v1/Sims", params={"Iccid": profile["iccid"]}).json()["sims"][0]["sid"] == sim


def test_generate_matching_id_gives_an_activation_code(api: Api) -> None:
    created = create(api, GenerateMatchingId="true")
    assert (created["status"], created["eid"]) == ("new", None)
    advance(api, 2 * STEP)
    profile = fetch(api, created["sid"])
    assert profile["status"] == "available"
    assert MATCHING_ID.match(profile["matching_id"]), profile["matching_id"]
    assert profile["activation_code"] == (f"1${SMDP_PLUS_ADDRESS.upper()}${profile['matching_id']}")
    assert profile["activation_code"].startswith("1$SM-DP-PLUS.TWILIO.COM$")


def test_a_profile_needs_an_eid_or_a_matching_id_and_refusals_create_nothing(api: Api) -> None:
    for data in ({}, {"GenerateMatchingId": "false"}, {"CallbackUrl": "https://x.test/cb"}):
        assert_error(
            api.post(PROFILES, data=data), 400, 20001, "Eid", "GenerateMatchingId", "activation"
        )
    assert_error(api.post(PROFILES, data={"Eid": "1234"}), 400, 20001, "Eid", "32 digits")
    assert_error(
        api.post(PROFILES, data={"Eid": EID, "CallbackMethod": "PUT"}), 400, 20001, "CallbackMethod"
    )
    assert_error(
        api.post(PROFILES, data={"GenerateMatchingId": "maybe"}), 400, 20001, "GenerateMatchingId"
    )
    assert sids(api) == []
    assert api.control("GET", "/control/esim/stock").json() == {"remaining": DEFAULT_STOCK}


def test_the_stock_runs_out_with_83500(api: Api) -> None:
    response = api.control("POST", "/control/esim/stock", {"Remaining": "1"})
    assert response.json() == {"remaining": 1}
    create(api, Eid=EID)
    assert api.control("GET", "/control/esim/stock").json() == {"remaining": 0}
    body = assert_error(api.post(PROFILES, data={"Eid": EID}), 400, 83500)
    assert body["message"].startswith("No eSIM Profiles are available")
    assert len(sids(api)) == 1
    api.control("POST", "/control/esim/stock", {"Remaining": "5"})
    create(api, GenerateMatchingId="true")
    assert api.control("GET", "/control/esim/stock").json() == {"remaining": 4}
    for bad in ("-1", "x", "99999999999"):
        assert_error(
            api.control("POST", "/control/esim/stock", {"Remaining": bad}), 400, 20001, "Remaining"
        )
    assert_error(api.control("POST", "/control/esim/stock", {}), 400, 20001, "Remaining")
    assert api.control("POST", "/control/reset").status_code == 200
    assert api.control("GET", "/control/esim/stock").json() == {"remaining": DEFAULT_STOCK}
    assert sids(api) == []
    assert_error(api.control("GET", "/control/esim/stock", auth=("operator", "x" * 20)), 401, 20003)


def test_list_filters_and_pages_and_other_accounts_see_nothing(api: Api) -> None:
    first = available(api, Eid=EID)
    second = create(api, Eid=OTHER_EID)
    third = create(api, GenerateMatchingId="true")
    assert sids(api) == [first["sid"], second["sid"], third["sid"]]
    assert sids(api, Eid=EID) == [first["sid"]]
    assert sids(api, SimSid=first["sim_sid"]) == [first["sid"]]
    assert sids(api, SimSid="HS" + "0" * 32) == []
    assert sids(api, Status="new") == [second["sid"], third["sid"]]
    assert sids(api, Status="available") == [first["sid"]]
    assert_error(api.get(PROFILES, params={"Status": "lost"}), 400, 20001, "Status")

    page = api.get(PROFILES, params={"PageSize": 2}).json()
    assert page["meta"]["key"] == "esim_profiles"
    assert [p["sid"] for p in page["esim_profiles"]] == [first["sid"], second["sid"]]
    rest = api.get(page["meta"]["next_page_url"]).json()
    assert [p["sid"] for p in rest["esim_profiles"]] == [third["sid"]]
    assert rest["meta"]["next_page_url"] is None

    other = api.new_account()
    assert_error(api.get(f"{PROFILES}/{first['sid']}", as_=other), 404, 20404, first["sid"])
    assert api.get(PROFILES, as_=other).json()["esim_profiles"] == []
    assert_error(api.get(f"{PROFILES}/not-a-sid"), 404, 20404)


def test_a_manual_policy_holds_each_step_until_the_operator_progresses_it(api: Api) -> None:
    response = api.control("POST", "/control/policies/esim_profile", {"Policy": "manual"})
    assert response.status_code == 200, response.text
    profile = create(api, Eid=EID)
    advance(api, 3600)
    assert fetch(api, profile["sid"])["status"] == "new"
    path = f"/control/lifecycles/esim_profile/{profile['sid']}/progress"
    assert api.control("POST", path).status_code == 200
    assert fetch(api, profile["sid"])["status"] == "reserving"
    assert api.control("POST", path).status_code == 200
    assert fetch(api, profile["sid"])["status"] == "available"
    assert_error(api.control("POST", path), 404, 20404, "nothing is pending")


def smdp(api: Api, eid: str, step: str, **data: str) -> dict[str, Any]:
    response = api.post(f"/esim/{eid}/{step}", data=data)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_device_downloads_and_installs_its_profile(api: Api) -> None:
    profile = available(api, Eid=EID)
    advance(api, 1)
    downloaded = smdp(api, EID, "download")
    assert downloaded["downloaded"] is True
    assert downloaded["error"] is None
    assert downloaded["esim_profile"] == fetch(api, profile["sid"])
    assert downloaded["esim_profile"]["status"] == "downloaded"
    assert downloaded["esim_profile"]["date_updated"] == iso(api.clock.now())
    installed = smdp(api, EID, "install")
    assert installed["installed"] is True
    assert fetch(api, profile["sid"])["status"] == "installed"
    assert sids(api, Status="installed") == [profile["sid"]]

    again = smdp(api, EID, "download")  # nothing left to download: refused, nothing changes
    assert again["downloaded"] is False
    assert again["error"]["code"] == "profile-not-available"
    assert fetch(api, profile["sid"])["status"] == "installed"


def test_an_activation_code_downloads_on_any_device(api: Api) -> None:
    profile = available(api, GenerateMatchingId="true")
    body = smdp(api, OTHER_EID, "download", MatchingId=profile["matching_id"])
    assert body["downloaded"] is True
    assert smdp(api, OTHER_EID, "install", Profile=profile["sid"])["installed"] is True
    assert fetch(api, profile["sid"])["status"] == "installed"


def test_a_profile_presented_by_the_wrong_eid_fails(api: Api) -> None:
    profile = available(api, Eid=EID, GenerateMatchingId="true")
    body = smdp(api, OTHER_EID, "download", MatchingId=profile["matching_id"])
    assert body["downloaded"] is False
    assert body["error"]["code"] == "eid-mismatch"
    failed = fetch(api, profile["sid"])
    assert failed["status"] == "failed"
    assert (failed["error_code"], failed["error_message"]) == (
        "eid-mismatch",
        body["error"]["message"],
    )
    assert EID in failed["error_message"]
    assert OTHER_EID in failed["error_message"]


def test_a_profile_not_yet_available_is_refused_and_left_alone(api: Api) -> None:
    profile = create(api, Eid=EID)
    body = smdp(api, EID, "download")
    assert (body["downloaded"], body["error"]["code"]) == (False, "profile-not-available")
    assert "new" in body["error"]["message"]
    assert fetch(api, profile["sid"]) == profile
    assert_error(api.post(f"/esim/{OTHER_EID}/download"), 404, 20404, "no eSIM Profile")
    assert_error(api.post(f"/esim/{EID}/download", data={"MatchingId": "NOPE"}), 404, 20404)
    assert_error(api.post(f"/esim/{EID}/install"), 400, 20001, "download one first")
    assert_error(api.post("/esim/123/download"), 400, 20001, "Eid")


def test_an_operator_injected_failure_fails_the_next_step(api: Api) -> None:
    profile = available(api, Eid=EID)
    smdp(api, EID, "download")
    injected = api.control(
        "POST",
        f"/control/esim/profiles/{profile['sid']}/failure",
        {"ErrorCode": "8.2.5", "ErrorMessage": "Profile installation failed"},
    )
    assert injected.status_code == 200, injected.text
    assert fetch(api, profile["sid"])["status"] == "downloaded"
    body = smdp(api, EID, "install")
    assert body["installed"] is False
    assert body["error"] == {"code": "8.2.5", "message": "Profile installation failed"}
    failed = fetch(api, profile["sid"])
    assert (failed["status"], failed["error_code"]) == ("failed", "8.2.5")
    assert_error(
        api.control("POST", f"/control/esim/profiles/{profile['sid']}/failure"), 400, 20001
    )
    assert_error(api.control("POST", "/control/esim/profiles/HPnope/failure"), 404, 20404)
