"""The Accounts API subset (2010 API): subaccounts, their status, and API keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from fleetsim.db.tables import ApiKey
from fleetsim.db.uow import unit_of_work
from tests.api.conftest import Api, Credentials, assert_error
from tests.api.network_fixtures import attach, connectable_sim

ACCOUNTS = "/2010-04-01/Accounts.json"
CREATED = "Thu, 15 Jan 2026 12:00:00 +0000"  # the frozen clock, in RFC 2822


def account_url(sid: str) -> str:
    return f"/2010-04-01/Accounts/{sid}.json"


def keys_url(sid: str) -> str:
    return f"/2010-04-01/Accounts/{sid}/Keys.json"


def new_subaccount(api: Api, name: str | None = None, as_: Credentials | None = None) -> Any:
    response = api.post(ACCOUNTS, data={"FriendlyName": name} if name else {}, as_=as_)
    assert response.status_code == 201, response.text
    return response.json()


def creds_of(account: dict[str, Any]) -> Credentials:
    return Credentials(account["sid"], account["auth_token"], account["sid"])


def test_create_a_subaccount_that_then_authenticates(api: Api) -> None:
    sub = new_subaccount(api, "field units")
    assert sub == {
        "auth_token": sub["auth_token"],
        "date_created": CREATED,
        "date_updated": CREATED,
        "friendly_name": "field units",
        "owner_account_sid": api.creds.account_sid,
        "sid": sub["sid"],
        "status": "active",
        "subresource_uris": {"keys": keys_url(sub["sid"])},
        "type": "Full",
        "uri": account_url(sub["sid"]),
    }
    assert sub["sid"].startswith("AC")
    assert len(sub["sid"]) == 34
    assert len(sub["auth_token"]) == 32
    assert sub["auth_token"].isalnum()
    assert api.get("/v1/Sims", as_=creds_of(sub)).status_code == 200
    unnamed = new_subaccount(api)
    assert unnamed["friendly_name"] == "SubAccount Created at 2026-01-15 12:00 PM"


def test_list_is_the_account_and_its_subaccounts_with_the_2010_envelope(api: Api) -> None:
    first = new_subaccount(api, "one")
    second = new_subaccount(api, "two")
    api.post(account_url(second["sid"]), data={"Status": "suspended"})
    new_subaccount(api, "theirs", as_=api.new_account())  # another account's: never listed
    body = api.get(ACCOUNTS, params={"PageSize": 2}).json()
    assert [a["sid"] for a in body["accounts"]] == [api.creds.account_sid, first["sid"]]
    assert body["accounts"][0]["owner_account_sid"] == api.creds.account_sid
    assert {k: v for k, v in body.items() if k != "accounts"} == {
        "end": 1,
        "first_page_uri": "/2010-04-01/Accounts.json?PageSize=2&Page=0",
        "next_page_uri": body["next_page_uri"],
        "page": 0,
        "page_size": 2,
        "previous_page_uri": None,
        "start": 0,
        "uri": "/2010-04-01/Accounts.json?PageSize=2&Page=0",
    }
    following = api.get(body["next_page_uri"]).json()
    assert [a["sid"] for a in following["accounts"]] == [second["sid"]]
    assert following["next_page_uri"] is None
    assert following["start"] == 2
    assert following["end"] == 2
    assert following["page"] == 1
    named = api.get(ACCOUNTS, params={"FriendlyName": "one"}).json()
    assert [a["sid"] for a in named["accounts"]] == [first["sid"]]
    assert named["uri"] == "/2010-04-01/Accounts.json?FriendlyName=one&PageSize=50&Page=0"
    suspended = api.get(ACCOUNTS, params={"Status": "suspended"}).json()
    assert [a["sid"] for a in suspended["accounts"]] == [second["sid"]]
    assert_error(api.get(ACCOUNTS, params={"Status": "gone"}), 400, 20001, "Status")
    # A subaccount lists only itself.
    listed = api.get(ACCOUNTS, as_=creds_of(first)).json()["accounts"]
    assert [a["sid"] for a in listed] == [first["sid"]]


def test_fetch_reaches_self_and_subaccounts_only(api: Api) -> None:
    sub = new_subaccount(api, "sub")
    sibling = new_subaccount(api, "sibling")
    other = api.new_account()
    assert api.get(account_url(sub["sid"])).json() == sub
    mine = api.get(account_url(api.creds.account_sid)).json()
    assert mine["auth_token"] == api.creds.password
    assert mine["owner_account_sid"] == api.creds.account_sid
    for path in (account_url(other.account_sid), account_url("AC" + "0" * 32)):
        assert_error(api.get(path), 404, 20404, path)
    as_sub = creds_of(sub)
    for target in (api.creds.account_sid, sibling["sid"]):
        assert_error(api.get(account_url(target), as_=as_sub), 404, 20404, target)
        assert_error(api.post(account_url(target), {"FriendlyName": "x"}, as_=as_sub), 404, 20404)
    assert_error(api.get(account_url("nope")), 404, 20404)


def test_suspend_reactivate_and_close_a_subaccount(api: Api) -> None:
    sub = new_subaccount(api, "sub")
    as_sub = creds_of(sub)
    api.clock.advance(dt.timedelta(seconds=60))
    renamed = api.post(account_url(sub["sid"]), {"FriendlyName": "renamed"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["friendly_name"] == "renamed"
    assert renamed.json()["date_updated"] == "Thu, 15 Jan 2026 12:01:00 +0000"
    suspended = api.post(account_url(sub["sid"]), {"Status": "suspended"}).json()
    assert suspended["status"] == "suspended"
    assert_error(api.get("/v1/Sims", as_=as_sub), 401, 20003)
    assert api.post(account_url(sub["sid"]), {"Status": "active"}).json()["status"] == "active"
    assert api.get("/v1/Sims", as_=as_sub).status_code == 200
    assert api.post(account_url(sub["sid"]), {"Status": "closed"}).json()["status"] == "closed"
    assert_error(api.get("/v1/Sims", as_=as_sub), 401, 20003, "Authenticate")
    response = api.post(account_url(sub["sid"]), {"Status": "active"})
    assert_error(response, 400, 20001, "closed account cannot be reopened")
    assert api.get(account_url(sub["sid"])).json()["status"] == "closed"
    assert_error(api.post(account_url(sub["sid"]), {"Status": "open"}), 400, 20001, "Status")


def test_only_a_parent_changes_a_status(api: Api) -> None:
    sub = new_subaccount(api)
    mine = account_url(api.creds.account_sid)
    assert_error(api.post(mine, {"Status": "suspended"}), 400, 20001, "by its parent")
    own = account_url(sub["sid"])
    assert_error(api.post(own, {"Status": "closed"}, as_=creds_of(sub)), 400, 20001, "parent")
    assert api.post(own, {"FriendlyName": "mine"}, as_=creds_of(sub)).status_code == 200
    assert api.get("/v1/Sims").status_code == 200


def test_a_subaccount_cannot_create_subaccounts(api: Api) -> None:
    sub = creds_of(new_subaccount(api))
    response = api.post(ACCOUNTS, {"FriendlyName": "grandchild"}, as_=sub)
    assert_error(response, 403, 20403, "subaccount cannot create subaccounts")
    assert len(api.get(ACCOUNTS).json()["accounts"]) == 2


def test_api_keys_cannot_use_the_accounts_api(api: Api) -> None:
    key = api.new_api_key()
    for method, path in [
        ("GET", ACCOUNTS),
        ("POST", ACCOUNTS),
        ("GET", account_url(api.creds.account_sid)),
        ("POST", keys_url(api.creds.account_sid)),
        ("GET", keys_url(api.creds.account_sid)),
    ]:
        assert_error(api.request(method, path, as_=key), 403, 20403, "API keys")
    assert len(api.get(keys_url(api.creds.account_sid)).json()["keys"]) == 1


def test_a_suspended_accounts_devices_are_detached_and_cannot_come_back(api: Api) -> None:
    sub = creds_of(new_subaccount(api, "fleet"))
    parent = api.creds
    api.creds = sub
    try:
        sim = connectable_sim(api)
        assert attach(api, sim.sid, sim.network_sids[0])["attached"] is True
    finally:
        api.creds = parent
    api.post(account_url(sub.account_sid), {"Status": "suspended"})
    api.post(account_url(sub.account_sid), {"Status": "active"})
    device = api.get(f"/devices/{sim.sid}", as_=sub).json()
    assert device["state"] == "detached"
    events = api.get(f"/devices/{sim.sid}/events", as_=sub).json()["connection_events"]
    assert events[-1]["event_type"].endswith("data-session.ended")
    api.post(account_url(sub.account_sid), {"Status": "suspended"})
    refused = api.post(f"/devices/{sim.sid}/attach", {"Network": sim.network_sids[0]}, as_=sub)
    assert_error(refused, 401, 20003)
    data = api.post(f"/devices/{sim.sid}/data", {"Upload": "100"}, as_=sub)
    assert_error(data, 401, 20003)


# --- API keys ---------------------------------------------------------------------------


def test_key_lifecycle_create_list_fetch_update_delete(api: Api) -> None:
    url = keys_url(api.creds.account_sid)
    created = api.post(url, {"FriendlyName": "ci"})
    assert created.status_code == 201, created.text
    key = created.json()
    assert set(key) == {"sid", "friendly_name", "date_created", "date_updated", "secret"}
    assert key["sid"].startswith("SK")
    assert key["friendly_name"] == "ci"
    assert key["date_created"] == CREATED
    as_key = Credentials(key["sid"], key["secret"], api.creds.account_sid)
    assert api.get("/v1/Sims", as_=as_key).status_code == 200
    key_url = f"/2010-04-01/Accounts/{api.creds.account_sid}/Keys/{key['sid']}.json"
    public = {k: v for k, v in key.items() if k != "secret"}
    assert api.get(key_url).json() == public  # the secret is shown once only
    listed = api.get(url).json()
    assert listed["keys"] == [public]
    assert listed["uri"] == f"{url}?PageSize=50&Page=0"
    assert api.post(key_url, {"FriendlyName": "renamed"}).json()["friendly_name"] == "renamed"
    deleted = api.delete(key_url)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(api.get("/v1/Sims", as_=as_key), 401, 20003, "Authenticate")
    assert_error(api.get(key_url), 404, 20404, key_url)
    assert_error(api.delete(key_url), 404, 20404)
    assert api.get(url).json()["keys"] == []


def test_only_a_salted_hash_of_a_key_secret_is_stored(api: Api) -> None:
    first = api.post(keys_url(api.creds.account_sid)).json()
    second = api.post(keys_url(api.creds.account_sid)).json()
    with unit_of_work(api.engine, write=False) as session:
        rows = session.execute(select(ApiKey).order_by(ApiKey.id)).scalars().all()
        stored = [(row.secret_salt, row.secret_hash) for row in rows]
    assert len(stored) == 2
    assert stored[0][0] != stored[1][0]  # a salt per key
    dumped = repr(stored)
    for key in (first, second):
        assert key["secret"] not in dumped
        assert key["secret"].encode().hex() not in dumped


def test_a_parent_manages_a_subaccounts_keys_but_not_the_reverse(api: Api) -> None:
    sub = creds_of(new_subaccount(api))
    made = api.post(keys_url(sub.account_sid), {"FriendlyName": "for sub"})
    assert made.status_code == 201, made.text
    as_key = Credentials(made.json()["sid"], made.json()["secret"], sub.account_sid)
    profile = api.post("/v1/NetworkAccessProfiles", {"UniqueName": "subs"}, as_=as_key)
    assert profile.json()["account_sid"] == sub.account_sid
    assert [k["sid"] for k in api.get(keys_url(sub.account_sid), as_=sub).json()["keys"]] == [
        made.json()["sid"]
    ]
    parent_keys = keys_url(api.creds.account_sid)
    assert_error(api.post(parent_keys, as_=sub), 404, 20404, parent_keys)
    assert_error(api.get(parent_keys, as_=sub), 404, 20404)
    mine = api.new_api_key()
    key_url = f"/2010-04-01/Accounts/{api.creds.account_sid}/Keys/{mine.username}.json"
    assert_error(api.delete(key_url, as_=sub), 404, 20404)
    # The parent's own key, addressed under the subaccount, is not found either.
    wrong = f"/2010-04-01/Accounts/{sub.account_sid}/Keys/{mine.username}.json"
    assert_error(api.delete(wrong), 404, 20404)
    assert api.get("/v1/Sims", as_=mine).status_code == 200
