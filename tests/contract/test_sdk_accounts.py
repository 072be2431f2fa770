"""The Accounts API through the official `twilio` SDK against a live server: subaccounts
(create, list, fetch, update: suspend and close), API keys (create, then authenticate
with one as `Client(key_sid, secret, account_sid)`, list, update, delete), and a revoked
key's 401. One server per backend, shared by the module.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioException

from tests.contract.conftest import ACCOUNT_SID, AUTH_TOKEN, Live, running
from tests.contract.test_sdk_scenario import rest_error
from tests.support.sdk import sdk_client

pytestmark = [pytest.mark.live]


def refused_page(call: Callable[[], Any]) -> None:
    """A list the server answers 401 (20003): the SDK's pages raise TwilioException."""
    with pytest.raises(TwilioException) as caught:
        call()
    response = caught.value.args[1]
    assert response.status_code == 401
    assert json.loads(response.text)["code"] == 20003


@pytest.fixture(scope="module")
def live(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for the module, on each backend; no cards (these tests register none)."""
    with running(module_database_url, tmp_path_factory.mktemp("accounts")) as server:
        client = sdk_client(server.base_url, ACCOUNT_SID, AUTH_TOKEN)
        yield Live(server, client, ACCOUNT_SID, AUTH_TOKEN, [])


def test_subaccounts_through_the_sdk(live: Live) -> None:
    accounts = live.client.api.v2010.accounts
    created = accounts.create(friendly_name="sdk sub")
    assert created.sid is not None
    assert created.sid.startswith("AC")
    assert created.owner_account_sid == live.account_sid
    assert created.status == "active"
    assert created.type == "Full"
    assert created.auth_token is not None
    assert isinstance(created.date_created, dt.datetime)  # RFC 2822, as the SDK parses it
    assert created.date_created.tzinfo is not None
    assert created.uri == f"/2010-04-01/Accounts/{created.sid}.json"

    listed = accounts.list(page_size=1)  # the SDK follows next_page_uri
    assert live.account_sid in [a.sid for a in listed]
    assert created.sid in [a.sid for a in listed]
    assert [a.sid for a in accounts.list(friendly_name="sdk sub")] == [created.sid]

    fetched = accounts(created.sid).fetch()
    assert (fetched.sid, fetched.friendly_name) == (created.sid, "sdk sub")
    renamed = accounts(created.sid).update(friendly_name="renamed")
    assert renamed.friendly_name == "renamed"

    sub = sdk_client(live.base_url, created.sid, created.auth_token)
    assert sub.supersim.v1.sims.list() == []
    rest_error(lambda: sub.api.v2010.accounts(live.account_sid).fetch(), 404, 20404)

    assert accounts(created.sid).update(status="suspended").status == "suspended"
    refused_page(lambda: sub.supersim.v1.sims.list())
    assert [a.sid for a in accounts.list(status="suspended")] == [created.sid]
    assert accounts(created.sid).update(status="active").status == "active"
    assert sub.supersim.v1.sims.list() == []
    assert accounts(created.sid).update(status="closed").status == "closed"
    refused_page(lambda: sub.supersim.v1.sims.list())
    rest_error(lambda: accounts(created.sid).update(status="active"), 400, 20001)


def test_api_keys_through_the_sdk(live: Live) -> None:
    key = live.client.new_keys.create(friendly_name="deploy")
    assert key.sid is not None
    assert key.secret is not None
    assert key.sid.startswith("SK")
    assert key.friendly_name == "deploy"
    assert isinstance(key.date_created, dt.datetime)

    as_key = sdk_client(live.base_url, key.sid, key.secret, live.account_sid)
    profile = as_key.supersim.v1.network_access_profiles.create(unique_name="by-key")
    assert profile.account_sid == live.account_sid
    # Standard keys cannot manage keys.
    rest_error(lambda: as_key.new_keys.create(), 403, 20403)

    v2010 = live.client.api.v2010.accounts(live.account_sid)
    assert key.sid in [k.sid for k in v2010.keys.list()]
    assert v2010.keys(key.sid).fetch().friendly_name == "deploy"
    assert v2010.keys(key.sid).update(friendly_name="renamed").friendly_name == "renamed"
    also = live.client.api.v2010.accounts(live.account_sid).new_keys.create()
    assert also.secret != key.secret

    assert v2010.keys(key.sid).delete() is True
    refused_page(lambda: as_key.supersim.v1.network_access_profiles.list())
    rest_error(lambda: as_key.supersim.v1.network_access_profiles("by-key").fetch(), 401, 20003)
    rest_error(lambda: v2010.keys(key.sid).fetch(), 404, 20404)
    assert [k.sid for k in v2010.keys.list()] == [also.sid]
