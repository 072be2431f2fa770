"""The web console in-process: sign-in and sessions, CSRF, account scoping, the rules it
reaches through the services (Fleet deletion, bulk actions, search), on both backends.

The browser tests (tests/console) walk the same pages in Chromium; these check the edges.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx2 as httpx
import pytest
from sqlalchemy import update

from fleetsim.console.session import COOKIE
from fleetsim.db.secret_key import token_box
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.accounts.operator import OPERATOR
from fleetsim.resources.sims import search
from tests.api.conftest import OPERATOR_TOKEN, Api, Credentials
from tests.api.sim_helpers import fetch, new_fleet, register, register_many

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{32})"')


class Console:
    """A browser-like client of the console: cookies kept, the CSRF token of the last page."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.client = api.client
        self.csrf = ""

    def sign_in(self, username: str, password: str) -> httpx.Response:
        self.client.cookies.clear()
        response = self.client.post(
            "/console/sign-in",
            data={"username": username, "password": password, "next": "/console"},
            follow_redirects=True,
        )
        self._remember(response)
        return response

    def _remember(self, response: httpx.Response) -> None:
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)

    def get(self, path: str, **params: str) -> httpx.Response:
        response = self.client.get(path, params=params, follow_redirects=False)
        self._remember(response)
        return response

    def post(self, path: str, data: dict[str, str | Sequence[str]] | None = None) -> httpx.Response:
        form = {"csrf": self.csrf, **(data or {})}
        response = self.client.post(path, data=form, follow_redirects=True)
        self._remember(response)
        return response


def _as(api: Api, creds: Credentials) -> Console:
    console = Console(api)
    response = console.sign_in(creds.username, creds.password)
    assert response.status_code == 200, response.text
    assert str(response.url).endswith("/console")
    return console


def _alert(response: httpx.Response) -> str:
    found = re.search(r'role="alert">([^<]*)<', response.text)
    assert found, response.text
    return found.group(1)


def test_sign_in_sets_a_signed_session_that_a_new_token_ends(api: Api) -> None:
    console = Console(api)
    anonymous = console.get("/console/sims")
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        303,
        "/console/sign-in?next=/console/sims",
    )

    refused = console.sign_in(api.creds.username, "0" * 32)
    assert refused.status_code == 401
    assert "did not sign you in" in _alert(refused)
    assert COOKIE not in console.client.cookies

    assert console.sign_in(api.creds.username, api.creds.password).status_code == 200
    cookie = console.client.cookies[COOKIE]
    assert console.get("/console/sims").status_code == 200

    # A cookie whose payload was edited no longer signs anyone in.
    body, _, signature = cookie.rpartition(".")
    console.client.cookies.clear()
    console.client.cookies.set(COOKIE, body[:-2] + "AA." + signature, path="/console")
    assert console.get("/console/sims").status_code == 303

    # A new auth token signs out sessions made with the old one.
    console.client.cookies.clear()
    console.client.cookies.set(COOKIE, cookie, path="/console")
    assert console.get("/console/sims").status_code == 200
    with unit_of_work(api.engine, write=True) as session:
        sealed = token_box(session).seal("f" * 32, account_sid=api.creds.account_sid)
        session.execute(
            update(Account)
            .where(Account.sid == api.creds.account_sid)
            .values(sealed_auth_token=sealed)
        )
    assert console.get("/console/sims").status_code == 303


def test_a_form_without_its_csrf_token_changes_nothing(api: Api) -> None:
    console = _as(api, api.creds)
    console.csrf = "0" * 32
    refused = console.post("/console/network-access-profiles", {"unique_name": "forged"})
    assert refused.status_code == 403
    assert "This form has expired" in _alert(refused)
    assert api.get("/v1/NetworkAccessProfiles").json()["network_access_profiles"] == []

    console.get("/console/network-access-profiles")
    created = console.post("/console/network-access-profiles", {"unique_name": "real"})
    assert created.status_code == 200
    assert [p["unique_name"] for p in api.get("/v1/NetworkAccessProfiles").json()[
        "network_access_profiles"
    ]] == ["real"]  # fmt: skip


def test_errors_from_the_services_are_shown_in_plain_words(api: Api) -> None:
    console = _as(api, api.creds)
    console.get("/console/fleets")
    missing = console.post(
        "/console/fleets", {"unique_name": "f", "network_access_profile": "nowhere"}
    )
    assert missing.status_code == 400
    assert _alert(missing) == (
        "Invalid parameter NetworkAccessProfile: "
        "no Network Access Profile &#39;nowhere&#39; in this account"
    )
    assert "Error 20001 (HTTP 400)" in missing.text

    profile = api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"}).json()["sid"]
    too_big = console.post(
        "/console/fleets",
        {"unique_name": "f", "network_access_profile": profile, "data_limit": "3000000"},
    )
    assert too_big.status_code == 400
    assert "DataLimit" in _alert(too_big)
    assert "between 1 and 2000000" in _alert(too_big)
    not_a_number = console.post(
        "/console/fleets", {"network_access_profile": profile, "data_limit": "lots"}
    )
    assert "DataLimit" in _alert(not_a_number)
    assert "whole number" in _alert(not_a_number)
    assert api.get("/v1/Fleets").json()["fleets"] == []


def test_another_accounts_objects_are_never_shown(api: Api) -> None:
    other = api.new_account()
    fleet = new_fleet(api, "theirs", as_=other)
    sim = register(api, api.cards(1)[0], as_=other)["sid"]
    api.post(f"/v1/Sims/{sim}", data={"Fleet": fleet}, as_=other)
    profile = api.get(f"/v1/Fleets/{fleet}", as_=other).json()["network_access_profile_sid"]
    api.post(f"/v1/Sims/{sim}", data={"Status": "active"}, as_=other)
    before = fetch(api, sim, as_=other)

    console = _as(api, api.creds)
    for path in ("/console/sims", "/console/fleets", "/console/network-access-profiles"):
        page = console.get(path)
        assert page.status_code == 200
        assert sim not in page.text
        assert fleet not in page.text
        assert profile not in page.text
    for path in (
        f"/console/sims/{sim}",
        f"/console/sims/{sim}/device",
        f"/console/fleets/{fleet}",
        "/console/fleets/theirs",
        f"/console/network-access-profiles/{profile}",
    ):
        page = console.get(path)
        assert page.status_code == 404, path
        assert "<h1>Not found</h1>" in page.text
    console.get("/console/sims")
    for path, data in (
        (f"/console/sims/{sim}/status", {"status": "inactive"}),
        (f"/console/fleets/{fleet}/delete", {}),
        (f"/console/sims/{sim}/device/detach", {}),
    ):
        assert console.post(path, data).status_code == 404, path
    # A bulk action naming their Sim fails for that Sim: it is not found in this account.
    started = console.post("/console/bulk", {"action": "deactivate", "sim": [sim]})
    assert started.status_code == 200
    api.control("POST", "/control/clock/advance", {"Seconds": "1"})
    bulk_path = str(started.url).removeprefix("http://fleetsim.test")
    progress = console.get(bulk_path + "/progress").text
    assert "1 failed" in progress
    assert f"/Sims/{sim} was not found" in progress
    assert fetch(api, sim, as_=other) == before
    # Their bulk operation is theirs alone.
    theirs = _as(api, other)
    assert theirs.get(bulk_path).status_code == 404
    assert theirs.get("/console/bulk").text.count("/console/bulk/") == 0


def test_a_fleet_is_deleted_only_while_no_sim_is_in_it(api: Api) -> None:
    fleet = new_fleet(api, "fleet-a")
    sim = register(api, api.cards(1)[0])["sid"]
    api.post(f"/v1/Sims/{sim}", data={"Fleet": fleet})
    console = _as(api, api.creds)
    console.get(f"/console/fleets/{fleet}")
    refused = console.post(f"/console/fleets/{fleet}/delete")
    assert refused.status_code == 409
    assert _alert(refused) == (
        f"Fleet {fleet} still has Super SIMs assigned: move them to another Fleet first"
    )
    moved = console.post(f"/console/sims/{sim}/fleet", {"fleet": ""})
    assert moved.status_code == 200
    assert fetch(api, sim)["fleet_sid"] is None
    deleted = console.post(f"/console/fleets/{fleet}/delete")
    assert deleted.status_code == 200
    assert str(deleted.url).endswith("/console/fleets")
    assert api.get(f"/v1/Fleets/{fleet}").status_code == 404


def test_bulk_activation_runs_as_jobs_and_counts_each_sim(api: Api) -> None:
    fleet = new_fleet(api, "bulk")
    sims = [s["sid"] for s in register_many(api, 3)]
    for sid in sims[:2]:
        api.post(f"/v1/Sims/{sid}", data={"Fleet": fleet})
    console = _as(api, api.creds)
    listed = console.get("/console/sims")
    assert all(sid in listed.text for sid in sims)
    started = console.post("/console/bulk", {"action": "activate", "sim": sims})
    assert started.status_code == 200
    assert "0 of 3" in started.text
    assert "Running" in started.text

    api.control("POST", "/control/clock/advance", {"Seconds": "1"})
    bulk_path = str(started.url).removeprefix("http://fleetsim.test")
    progress = console.get(bulk_path + "/progress").text
    assert "3 of 3" in progress
    assert "2 succeeded" in progress
    assert "1 failed" in progress
    assert f"{sims[2]}: " in progress
    assert "data-finished" in progress
    assert [fetch(api, sid)["status"] for sid in sims] == ["scheduled", "scheduled", "new"]
    api.control("POST", "/control/clock/advance", {"Seconds": "600"})
    assert [fetch(api, sid)["status"] for sid in sims] == ["active", "active", "new"]

    move = console.post("/console/bulk", {"action": "move", "sim": sims})
    assert move.status_code == 400
    assert "choose the Fleet" in _alert(move)
    empty = console.post("/console/bulk", {"action": "activate"})
    assert empty.status_code == 400
    assert "select at least one" in _alert(empty)


def test_sims_are_found_by_sid_iccid_or_name_prefix_and_paged(api: Api) -> None:
    registered = register_many(api, 53)
    names = {s["sid"]: f"meter-{i:03d}" for i, s in enumerate(registered)}
    for sid, name in names.items():
        api.post(f"/v1/Sims/{sid}", data={"UniqueName": name})
    console = _as(api, api.creds)

    def shown(**params: str) -> list[str]:
        page = console.get("/console/sims", **params)
        assert page.status_code == 200, page.text
        return re.findall(r'name="sim" value="(HS[0-9a-f]{32})"', page.text)

    first = shown()
    assert first == [s["sid"] for s in reversed(registered)][:50]
    token = re.search(
        r'rel="next" href="/console/sims\?page=([^"]+)"', console.get("/console/sims").text
    )
    assert token
    assert shown(page=token.group(1)) == [s["sid"] for s in reversed(registered)][50:]
    assert shown(q="meter-01") == [s["sid"] for s in reversed(registered[10:20])]
    assert shown(q="meter-052") == [registered[52]["sid"]]
    assert shown(q=registered[7]["sid"]) == [registered[7]["sid"]]
    assert shown(q=registered[3]["iccid"][:19]) == [registered[3]["sid"]]
    assert shown(q="nothing-like-it") == []
    assert shown(status="active") == []
    assert len(shown(status="new")) == 50
    bad = console.get("/console/sims", page="PAnotatoken")
    assert bad.status_code == 400


def test_the_operator_switches_between_accounts(api: Api) -> None:
    other = api.new_account()
    fleet = new_fleet(api, "other-fleet", as_=other)
    console = _as(api, Credentials(OPERATOR, OPERATOR_TOKEN, ""))
    overview = console.get("/console")
    assert "Operator, acting for" in overview.text
    assert other.account_sid in overview.text
    switched = console.post("/console/account", {"account": other.account_sid})
    assert switched.status_code == 200
    assert fleet in console.get("/console/fleets").text
    account_user = _as(api, api.creds)
    account_user.get("/console")
    assert account_user.post("/console/account", {"account": other.account_sid}).status_code == 404


@pytest.mark.parametrize("path", ["/console/static/console.css", "/console/static/console.js"])
def test_static_files_are_served_without_a_session(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 200
    assert len(response.text) > 200


def test_a_broad_search_walks_the_list_and_finds_the_same_sims(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered = register_many(api, 6)
    for index, sim in enumerate(registered):
        api.post(f"/v1/Sims/{sim['sid']}", data={"UniqueName": f"{'ab'[index % 2]}-{index}"})
    console = _as(api, api.creds)

    def shown(q: str) -> list[str]:
        page = console.get("/console/sims", q=q)
        return re.findall(r'name="sim" value="(HS[0-9a-f]{32})"', page.text)

    newest_first = [s["sid"] for s in reversed(registered)]
    narrow = {q: shown(q) for q in ("a-", "b-", registered[0]["iccid"][:6])}
    assert narrow["a-"] == newest_first[1::2]
    assert narrow["b-"] == newest_first[0::2]
    assert narrow[registered[0]["iccid"][:6]] == newest_first  # the cards share a prefix
    # Past the threshold of matches the query walks the list in id order instead.
    monkeypatch.setattr(search, "_MANY", 2)
    assert {q: shown(q) for q in narrow} == narrow


def test_a_reset_that_keeps_accounts_keeps_their_console_sessions(api: Api) -> None:
    console = _as(api, api.creds)
    assert api.control("POST", "/control/reset", {"Accounts": "keep"}).status_code == 200
    assert console.get("/console/sims").status_code == 200
    assert api.control("POST", "/control/reset", {"Accounts": "delete"}).status_code == 200
    assert console.get("/console/sims").status_code == 303
