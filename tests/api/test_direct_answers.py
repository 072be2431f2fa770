"""Direct answers (`fleetsim.http.direct`): a Sim fetched without the ORM reads exactly as
through the full handler, and every case the direct path does not own (API keys, wrong
tokens, suspended accounts, missing or foreign Sims) gets the full handler's answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from fleetsim.http import direct
from tests.api.conftest import Api, Credentials, assert_error
from tests.api.sim_helpers import MISSING_SIM, new_fleet, register_many, update
from tests.api.test_observability import requests, scrape


@contextmanager
def orm_statements(engine: Engine) -> Iterator[list[str]]:
    """The statements run through the engine while the block runs (the direct path runs
    none: it reads on a pooled DBAPI connection)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_sim_fetched_directly_reads_as_through_the_full_handler(api: Api) -> None:
    fleet = new_fleet(api, "direct")
    in_fleet, plain, scheduled = register_many(api, 3)
    update(api, in_fleet["sid"], {"Fleet": fleet, "UniqueName": "named"})
    moving = api.post(f"/v1/Sims/{scheduled['sid']}", {"Fleet": fleet, "Status": "ready"})
    assert moving.status_code == 202, moving.text
    key = api.new_api_key()  # API keys are left to the full handler
    refs = [in_fleet["sid"], "named", plain["sid"], "HS" + plain["sid"][2:].upper()]
    refs.append(scheduled["sid"])

    for ref in refs:
        with orm_statements(api.engine) as seen:
            direct = api.get(f"/v1/Sims/{ref}")
        full = api.get(f"/v1/Sims/{ref}", as_=key)

        assert seen == [], f"{ref} was not answered directly"
        assert direct.status_code == full.status_code == 200
        assert direct.json() == full.json()
    assert api.get(f"/v1/Sims/{in_fleet['sid']}").json()["fleet_sid"] == fleet


def test_what_the_direct_path_does_not_own_gets_the_full_handlers_answer(api: Api) -> None:
    (sim,) = register_many(api, 1)
    other = api.new_account()
    (foreign,) = register_many(api, 1, as_=other)
    wrong = Credentials(api.creds.username, "f" * 32, api.creds.account_sid)

    with orm_statements(api.engine) as seen:
        assert_error(api.get(f"/v1/Sims/{sim['sid']}", as_=wrong), 401, 20003)
        assert_error(api.get(f"/v1/Sims/{MISSING_SIM}"), 404, 20404)
        assert_error(api.get(f"/v1/Sims/{foreign['sid']}"), 404, 20404)
        assert_error(api.get("/v1/Sims/no-such-name"), 404, 20404)
        assert_error(api.get("/v1/Sims/HS%00"), 404, 20404)

    assert seen, "the full handler answered none of them"


def test_a_suspended_account_cannot_fetch_directly(api: Api) -> None:
    sub = api.new_account(parent=api.creds)
    (sim,) = register_many(api, 1, as_=sub)
    assert api.get(f"/v1/Sims/{sim['sid']}", as_=sub).status_code == 200

    suspended = api.post(f"/2010-04-01/Accounts/{sub.account_sid}.json", {"Status": "suspended"})
    assert suspended.status_code == 200, suspended.text

    assert_error(api.get(f"/v1/Sims/{sim['sid']}", as_=sub), 401, 20003)


def test_a_direct_answer_has_a_request_id_and_is_counted(api: Api) -> None:
    (sim,) = register_many(api, 1)
    before = requests(scrape(api), "FetchSim", "200")

    with orm_statements(api.engine) as seen:
        answer = api.get(f"/v1/Sims/{sim['sid']}", headers={"X-Request-Id": "probe-1"})

    assert seen == []
    assert answer.headers["x-request-id"] == "probe-1"
    assert answer.headers["content-type"] == "application/json"
    assert requests(scrape(api), "FetchSim", "200") == before + 1


def test_a_failing_direct_answer_falls_back_to_the_full_handler(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (sim,) = register_many(api, 1)
    expected = api.get(f"/v1/Sims/{sim['sid']}").json()

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug in a direct handler")

    monkeypatch.setattr(direct, "answer_directly", broken)
    with caplog.at_level(logging.ERROR, logger="fleetsim.http"):
        answer = api.get(f"/v1/Sims/{sim['sid']}")

    assert answer.status_code == 200
    assert answer.json() == expected
    assert "the direct answer of" in caplog.text


def test_pages_of_sims_listed_directly_read_as_through_the_full_handler(api: Api) -> None:
    fleet = new_fleet(api, "paged")
    sims = register_many(api, 5)
    update(api, sims[1]["sid"], {"Fleet": fleet, "UniqueName": "second"})
    register_many(api, 2, as_=api.new_account())  # another account's Sims never show
    key = api.new_api_key()
    url: str | None = "/v1/Sims?PageSize=2"
    pages = 0

    while url is not None:
        with orm_statements(api.engine) as seen:
            direct = api.get(url)
        full = api.get(url, as_=key)

        assert seen == [], f"{url} was not answered directly"
        assert direct.status_code == full.status_code == 200
        assert direct.json() == full.json()
        pages += 1
        url = direct.json()["meta"]["next_page_url"]

    assert pages == 3
    listed = api.get("/v1/Sims?PageSize=1000").json()["sims"]
    assert [s["sid"] for s in listed] == [s["sid"] for s in sims]


def test_lists_the_direct_path_does_not_own_get_the_full_handlers_answer(api: Api) -> None:
    register_many(api, 3)
    first = api.get("/v1/Sims?PageSize=1").json()["meta"]
    second = api.get(first["next_page_url"]).json()["meta"]

    with orm_statements(api.engine) as seen:
        backwards = api.get(second["previous_page_url"])
        filtered = api.get("/v1/Sims?Status=new&PageSize=1")
        assert_error(api.get("/v1/Sims?PageToken=PAforged"), 400, 21481)
        assert_error(api.get("/v1/Sims?PageSize=0"), 400, 20001)

    assert seen, "the full handler answered none of them"
    assert backwards.json()["sims"] == api.get("/v1/Sims?PageSize=1").json()["sims"]
    assert filtered.json()["meta"]["url"].endswith("Status=new&PageSize=1&Page=0")
