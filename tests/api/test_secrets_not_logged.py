"""Auth tokens and API key secrets never reach the log or an error body: failed
authentication of every kind, errors of every status, a node with the wrong secret key."""

from __future__ import annotations

import base64
import logging

import pytest

from fleetsim.db.secret_key import SECRET_KEY_ENV
from fleetsim.resources.accounts.cache import cache_of
from tests.api.conftest import Api, Credentials

ACCOUNTS = "/2010-04-01/Accounts.json"


def test_no_secret_in_logs_or_error_bodies(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    a = api.creds
    key = api.new_api_key()
    made = api.post(ACCOUNTS, {"FriendlyName": "sub"}).json()
    sub = Credentials(made["sid"], made["auth_token"], made["sid"])
    api.post(f"/2010-04-01/Accounts/{sub.account_sid}.json", {"Status": "suspended"})
    secrets = [a.password, key.password, sub.password]
    wrong_last = "1" if a.password.endswith("0") else "0"
    raw = base64.b64encode(f"{a.username}:{a.password}x".encode()).decode()
    attempts = [
        api.get("/v1/Sims", auth=(a.username, a.password[:-1] + wrong_last)),
        api.get("/v1/Sims", auth=("AC" + "1" * 32, a.password)),
        api.get("/v1/Sims", auth=(key.username, a.password)),
        api.get("/v1/Sims", auth=(a.username, key.password)),
        api.get("/v1/Sims", auth=(key.username, key.password + "0")),
        api.get("/v1/Sims", auth=None, headers={"Authorization": f"Basic {a.password}"}),
        api.get("/v1/Sims", auth=None, headers={"Authorization": f"Bearer {a.password}"}),
        api.get("/v1/Sims", auth=None, headers={"Authorization": f"Basic {raw}="}),
        api.get("/v1/Sims", as_=sub),  # suspended
        api.get(ACCOUNTS, as_=key),  # 403: keys cannot use the Accounts API
        api.get("/v1/Fleets/HF" + "0" * 32),
        api.get("/v1/Sims", params={"PageSize": "0"}),
        api.get("/v1/Sims", params={"PageToken": "forged"}),
        api.request("PUT", "/v1/Sims"),
        api.post("/v1/Fleets", content=b"x" * 70_000),
        api.post("/v1/Fleets", content=b"{}", headers={"Content-Type": "application/json"}),
        api.post(f"/2010-04-01/Accounts/{sub.account_sid}.json", {"Status": "nope"}),
        api.get(f"/2010-04-01/Accounts/{a.account_sid}.json", as_=key),
    ]
    # A node whose secret key is not the one the tokens were sealed with answers 401,
    # and logs why (without the token).
    # (Such a node has kept no credential this one authenticated.)
    monkeypatch.setenv(SECRET_KEY_ENV, "not the key the tokens were sealed with")
    cache_of(api.engine).forget()
    attempts.append(api.get("/v1/Sims"))
    assert "does not open with this server's secret key" in caplog.text
    for response in attempts:
        assert 400 <= response.status_code < 500, response.text
        assert [s for s in secrets if s in response.text] == [], response.text
    assert [response.status_code for response in attempts].count(401) == 10
    assert [s for s in secrets if s in caplog.text] == []
