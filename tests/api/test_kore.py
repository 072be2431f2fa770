"""KORE's dialect in-process: a client written to KORE's documentation (OAuth 2.0 client
credentials, Bearer tokens, JSON bodies, KORE's paths only) drives the app; callbacks are
recorded and their `kore-signature` checked by the documented formula.

The API client is made by the operator (the control API), as an account owner would make it
in KORE's console; everything after that goes through `fleetsim.testing.kore.KoreAuth` and
KORE's documented paths.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any
from urllib.parse import parse_qsl

import pytest

from fleetsim.contract import in_dialect, operations
from fleetsim.core.dialect import Dialect
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import generate_cards, import_cards
from fleetsim.testing.kore import TOKEN_PATH, KoreAuth
from fleetsim.webhooks.signing import kore_signature
from tests.api.conftest import BASE, Api, Credentials, assert_error, assert_management_error
from tests.api.lifecycle_fixtures import Ops, Sent
from tests.api.sim_helpers import new_fleet
from tests.api.test_hostile_input import snapshot

KORE = Dialect.KORE


def new_client(api: Api, lifetime: str = "1h", creds: Credentials | None = None) -> dict[str, Any]:
    """An API client of the account, made by the operator; its id and secret."""
    account = (creds or api.creds).account_sid
    response = api.control(
        "POST", f"/control/accounts/{account}/api-clients", {"Lifetime": lifetime}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["client_id"].startswith("apiclient_")
    assert len(body["client_id"]) == 36
    return body


def kore_auth(client: dict[str, Any]) -> KoreAuth:
    return KoreAuth(BASE + TOKEN_PATH, client["client_id"], client["client_secret"])


def fetch_token(api: Api, client: dict[str, Any]) -> dict[str, Any]:
    """KORE's token request, exactly as its documentation shows it."""
    response = api.client.post(
        TOKEN_PATH,
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def callbacks_to(ops: Ops, prefix: str) -> list[Sent]:
    return [sent for sent in ops.transport.sent if sent.url.startswith(prefix)]


def assert_kore_signed(sent: Sent, secret: str | None) -> None:
    """Signed by KORE's documented formula: hex SHA-256 of secret + method + URL without
    query and fragment + raw body."""
    headers = {k.lower(): v for k, v in sent.headers.items()}
    bare = sent.url.split("?")[0].split("#")[0]
    expected = (
        hashlib.sha256(
            (secret or "").encode() + b"POST" + bare.encode() + (sent.body or b"")
        ).hexdigest()
        if secret is not None
        else ""
    )
    assert headers["kore-signature"] == expected, headers
    assert headers["user-agent"] == "KoreProxy/1.1"
    assert headers["kore-idempotency-token"]
    assert headers["x-twilio-signature"]  # still sent: see fleetsim.webhooks.service


def test_kore_signature_matches_the_documented_test_vector() -> None:
    # docs.korewireless.com: developers/how-to/webhooks/validate-webhook-signatures
    signed = kore_signature(
        "12345", "POST", "https://testendpoint.com", b"field1=value1&field2=value2"
    )
    assert signed == "f562d3959f68b5a30fc7a63f8bbf40987f633575f4231ffceb4f76dd154ea3ce"
    assert kore_signature(None, "POST", "https://testendpoint.com", b"x") == ""
    # The query and the fragment are not signed; the method is, in upper case.
    with_query = kore_signature(
        "12345", "post", "https://testendpoint.com?a=1#top", b"field1=value1&field2=value2"
    )
    assert with_query == signed


def test_a_kore_client_lists_creates_updates_and_verifies_callbacks(ops: Ops) -> None:
    api = ops.api
    auth = kore_auth(new_client(api))
    cards = api.cards(3)
    for card in cards:
        body = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
        created = api.client.post("/v1/Sims", json=body, auth=auth)
        assert created.status_code == 201, created.text
    # Paging: KORE's meta envelope is Twilio's; the next page's URL is followed verbatim.
    first = api.client.get("/v1/Sims", params={"PageSize": 2}, auth=auth).json()
    assert len(first["sims"]) == 2
    assert first["meta"]["page_size"] == 2
    second = api.client.get(first["meta"]["next_page_url"], auth=auth).json()
    assert len(second["sims"]) == 1
    assert second["meta"]["next_page_url"] is None
    sims = [s["sid"] for s in first["sims"] + second["sims"]]
    assert sorted(sims) == sorted(set(sims))
    # A Fleet from a JSON body: lists, numbers and booleans as KORE's clients send them.
    networks = api.client.get("/v1/Networks", params={"IsoCountry": "US"}, auth=auth).json()
    nap = api.client.post(
        "/v1/NetworkAccessProfiles",
        json={"Networks": [n["sid"] for n in networks["networks"][:2]]},
        auth=auth,
    )
    assert nap.status_code == 201, nap.text
    fleet = api.client.post(
        "/v1/Fleets",
        json={
            "UniqueName": "kore-fleet",
            "NetworkAccessProfile": nap.json()["sid"],
            "DataLimit": 500,
            "SmsCommandsEnabled": False,
        },
        auth=auth,
    )
    assert fleet.status_code == 201, fleet.text
    assert fleet.json()["data_limit"] == 500
    assert fleet.json()["sms_commands_enabled"] is False
    # A webhook secret, then a status change whose callback it signs.
    first_secret = api.client.post("/v1/secrets", json={"Name": "first"}, auth=auth)
    assert first_secret.status_code == 201, first_secret.text
    assert first_secret.json()["status"] == "active"
    assert len(first_secret.json()["id"]) == 30
    url = "https://hooks.example.com/sims?tenant=7#status"
    update = {"Fleet": fleet.json()["sid"], "Status": "active", "CallbackUrl": url}
    changed = api.client.post(f"/v1/Sims/{sims[0]}", json=update, auth=auth)
    assert changed.status_code == 202, changed.text
    ops.advance(3600)
    [sent] = callbacks_to(ops, "https://hooks.example.com/")
    assert dict(parse_qsl((sent.body or b"").decode()))["Status"] == "active"
    assert_kore_signed(sent, first_secret.json()["secret"])
    # Rotation: the new secret signs every later callback; the first one turns pending.
    second_secret = api.client.post("/v1/secrets", json={"Name": "second"}, auth=auth).json()
    listed = api.client.get("/v1/secrets", auth=auth).json()
    assert {s["name"]: s["status"] for s in listed["data"]} == {
        "first": "pending",
        "second": "active",
    }
    assert listed["meta_data"]["count"] == 2
    assert "secret" not in listed["data"][0]
    update = {"Status": "inactive", "CallbackUrl": url}
    assert api.client.post(f"/v1/Sims/{sims[0]}", json=update, auth=auth).status_code == 202
    ops.advance(3600)
    later = callbacks_to(ops, "https://hooks.example.com/")[1]
    assert dict(parse_qsl((later.body or b"").decode()))["Status"] == "inactive"
    assert_kore_signed(later, second_secret["secret"])
    with pytest.raises(AssertionError):
        assert_kore_signed(later, first_secret.json()["secret"])
    # Rotating back by PATCH: the first secret signs again from the next callback on.
    first_id = first_secret.json()["id"]
    patched = api.client.patch(f"/v1/secrets/{first_id}", json={"Status": "active"}, auth=auth)
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "active"
    fetched = api.client.get(f"/v1/secrets/{second_secret['id']}", auth=auth).json()
    assert fetched["status"] == "pending"
    update = {"Status": "active", "CallbackUrl": url}
    assert api.client.post(f"/v1/Sims/{sims[0]}", json=update, auth=auth).status_code == 202
    ops.advance(3600)
    last = callbacks_to(ops, "https://hooks.example.com/")[2]
    assert_kore_signed(last, first_secret.json()["secret"])
    # The 1-hour token expired as the clock moved on: the client got another on each 401.
    assert auth.tokens_fetched == 3


def test_basic_accounts_keep_twilios_callbacks(ops: Ops) -> None:
    api = ops.api
    card = api.cards(1)[0]
    sim = api.post("/v1/Sims", {"Iccid": card.iccid, "RegistrationCode": card.registration_code})
    url = "https://hooks.example.com/twilio"
    update = {"Fleet": new_fleet(api), "Status": "ready", "CallbackUrl": url}
    assert api.post(f"/v1/Sims/{sim.json()['sid']}", update).status_code == 202
    ops.advance(3600)
    [sent] = callbacks_to(ops, url)
    headers = {k.lower() for k in sent.headers}
    assert "x-twilio-signature" in headers
    assert "kore-signature" not in headers
    # An API client makes the account KORE's: an empty signature until it has a secret.
    new_client(api)
    update = {"Status": "active", "CallbackUrl": url}
    assert api.post(f"/v1/Sims/{sim.json()['sid']}", update).status_code == 202
    ops.advance(3600)
    assert_kore_signed(callbacks_to(ops, url)[1], None)


def test_a_token_expires_on_the_server_clock_and_a_new_one_works(api: Api) -> None:
    client = new_client(api, "1h")
    issued = fetch_token(api, client)
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == 3600
    assert api.client.get("/v1/Sims", headers=bearer(issued["access_token"])).status_code == 200
    api.control("POST", "/control/clock/advance", {"Seconds": "3599"})
    assert api.client.get("/v1/Sims", headers=bearer(issued["access_token"])).status_code == 200
    api.control("POST", "/control/clock/advance", {"Seconds": "1"})
    expired = api.client.get("/v1/Sims", headers=bearer(issued["access_token"]))
    assert_error(expired, 401, 20003, "Authenticate", dialect=KORE)
    assert expired.headers["www-authenticate"].startswith("Bearer")
    fresh = fetch_token(api, client)["access_token"]
    assert api.client.get("/v1/Sims", headers=bearer(fresh)).status_code == 200
    # KORE's client fetches a new token on a 401 and retries once.
    auth = kore_auth(client)
    auth.access_token = issued["access_token"]
    assert api.client.get("/v1/Fleets", auth=auth).status_code == 200
    assert auth.tokens_fetched == 1


def test_revoking_a_client_ends_its_tokens(api: Api) -> None:
    client = new_client(api, "24mo")
    token = fetch_token(api, client)["access_token"]
    headers = bearer(token)
    got = api.client.get(f"/v1/clients/{client['client_id']}", headers=headers)
    assert got.status_code == 200
    assert got.json()["client"]["account_id"] == api.creds.account_sid
    gone = api.client.delete(f"/v1/clients/{client['client_id']}", headers=headers)
    assert gone.status_code == 204, gone.text
    assert_error(api.client.get("/v1/Sims", headers=headers), 401, 20003, dialect=KORE)
    refused = api.client.post(
        TOKEN_PATH,
        data={
            "grant_type": "client_credentials",
            **{k: client[k] for k in ("client_id", "client_secret")},
        },
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_kores_client_api_creates_and_lists_clients(api: Api) -> None:
    made = api.client.post(
        "/v1/clients",
        json={"name": "ci", "locked": False, "scopes": {"products": ["SuperSIM"]}},
        auth=(api.creds.username, api.creds.password),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["client_type"] == "standard"
    assert body["client_secret"]
    assert body["name"] == "ci"
    token = fetch_token(api, body)["access_token"]
    listed = api.client.get(
        "/v1/clients", params={"page_size": 10, "page_number": 1}, headers=bearer(token)
    ).json()
    assert [c["client_id"] for c in listed["clients"]] == [body["client_id"]]
    assert "client_secret" not in listed["clients"][0]
    assert listed["meta"]["count"] == 1
    assert api.client.get("/v1/ping").json() == {"status": "ok"}
    # The Accounts and device APIs keep their own authentication.
    accounts = api.client.get("/2010-04-01/Accounts.json", headers=bearer(token))
    assert_error(accounts, 401, 20003, "Bearer tokens are for the Super SIM API", dialect=KORE)
    for path in (f"/devices/{'HS' + '0' * 32}", "/control/clock"):
        refused = api.client.get(path, headers=bearer(token))
        assert_error(refused, 401, 20003, "takes HTTP Basic credentials", dialect=KORE)


def test_kores_page_size_limits_apply_to_bearer_requests_only(api: Api) -> None:
    token = fetch_token(api, new_client(api))["access_token"]
    for path, limit in (("/v1/IpCommands", 100), ("/v1/UsageRecords", 249)):
        ok = api.client.get(path, params={"PageSize": limit}, headers=bearer(token))
        assert ok.status_code == 200, ok.text
        over = api.client.get(path, params={"PageSize": limit + 1}, headers=bearer(token))
        assert_error(over, 400, 20001, f"PageSize: must be at most {limit}", dialect=KORE)
        assert api.get(path, params={"PageSize": 1000}).status_code == 200
    assert (
        api.client.get("/v1/Sims", params={"PageSize": 1000}, headers=bearer(token)).status_code
        == 200
    )
    # JSON bodies are KORE's dialect only: HTTP Basic keeps Twilio's forms.
    refused = api.post("/v1/Fleets", json={"UniqueName": "x"})
    assert_error(refused, 415, 20415, "form-encoded")


TOKEN_FORM = {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}


def test_bad_token_requests_answer_4xx_and_change_nothing(api: Api) -> None:
    client = new_client(api)
    good = {
        **TOKEN_FORM,
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (
            "missing grant_type",
            {"data": {k: v for k, v in good.items() if k != "grant_type"}},
            400,
            "invalid_request",
        ),
        (
            "missing client_id",
            {"data": {k: v for k, v in good.items() if k != "client_id"}},
            400,
            "invalid_request",
        ),
        (
            "missing client_secret",
            {"data": {k: v for k, v in good.items() if k != "client_secret"}},
            400,
            "invalid_request",
        ),
        (
            "wrong grant type",
            {"data": {**good, "grant_type": "password"}},
            400,
            "unsupported_grant_type",
        ),
        ("unknown client", {"data": TOKEN_FORM}, 401, "invalid_client"),
        ("wrong secret", {"data": {**good, "client_secret": "0" * 32}}, 401, "invalid_client"),
        ("NUL in client_id", {"data": {**good, "client_id": "a\x00b"}}, 400, "invalid_request"),
        ("huge client_id", {"data": {**good, "client_id": "a" * 5000}}, 400, "invalid_request"),
        ("JSON body", {"json": good}, 415, "invalid_request"),
        (
            "oversized body",
            {
                "content": b"grant_type=" + b"x" * 70_000,
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            413,
            "invalid_request",
        ),
        (
            "bad UTF-8",
            {
                "content": b"grant_type=%ff%fe&client_id=a&client_secret=b",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "invalid_request",
        ),
        (
            "repeated field",
            {
                "content": b"grant_type=client_credentials&grant_type=x&client_id=a"
                + b"&client_secret=b",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "invalid_request",
        ),
    ]
    before = snapshot(api.engine)
    for why, kwargs, status, error in cases:
        response = api.client.post(TOKEN_PATH, **kwargs)
        assert response.status_code == status, (why, response.text)
        body = response.json()
        assert body["error"] == error, (why, body)
        assert body["error_description"], (why, body)
        assert isinstance(body["code"], int), (why, body)
    assert snapshot(api.engine) == before
    assert api.client.post(TOKEN_PATH, data=good).status_code == 200


def test_bad_secret_requests_answer_4xx_and_change_nothing(api: Api) -> None:
    headers = bearer(fetch_token(api, new_client(api))["access_token"])
    made = api.client.post("/v1/secrets", json={"Name": "kept"}, headers=headers).json()
    path = f"/v1/secrets/{made['id']}"
    json_type = {**headers, "Content-Type": "application/json"}
    cases: list[tuple[str, str, str, dict[str, Any], int, int]] = [
        ("missing Name", "POST", "/v1/secrets", {"json": {}}, 400, 20001),
        ("Name not a string", "POST", "/v1/secrets", {"json": {"Name": 7}}, 400, 20001),
        ("NUL in Name", "POST", "/v1/secrets", {"json": {"Name": "a\u0000b"}}, 400, 20001),
        ("NUL in client name", "POST", "/v1/clients", {"json": {"name": "a\u0000"}}, 400, 20001),
        ("empty Name", "POST", "/v1/secrets", {"json": {"Name": ""}}, 400, 20001),
        ("form body", "POST", "/v1/secrets", {"data": {"Name": "x"}}, 415, 20415),
        (
            "not an object",
            "POST",
            "/v1/secrets",
            {"content": b"[1]", "headers": json_type},
            400,
            20001,
        ),
        ("not JSON", "POST", "/v1/secrets", {"content": b"{", "headers": json_type}, 400, 20001),
        (
            "bad UTF-8",
            "POST",
            "/v1/secrets",
            {"content": b'{"Name": "\xff"}', "headers": json_type},
            400,
            20001,
        ),
        (
            "oversized",
            "POST",
            "/v1/secrets",
            {"content": b'{"Name": "' + b"x" * 70_000 + b'"}', "headers": json_type},
            413,
            20413,
        ),
        ("bad Status", "PATCH", path, {"json": {"Status": "revoked"}}, 400, 20001),
        ("long Name", "PATCH", path, {"json": {"Name": "x" * 65}}, 400, 20001),
        (
            "unknown secret",
            "PATCH",
            "/v1/secrets/whs_" + "0" * 26,
            {"json": {"Name": "x"}},
            404,
            20404,
        ),
        ("bad page_size", "GET", "/v1/secrets?page_size=0", {}, 400, 20001),
        ("bad status filter", "GET", "/v1/secrets?status=gone", {}, 400, 20001),
    ]
    before = snapshot(api.engine)
    for why, method, target, kwargs, status, code in cases:
        merged = {"headers": headers, **kwargs}
        response = api.client.request(method, target, **merged)
        assert response.status_code == status, (why, response.text)
        assert_management_error(response, status, code)
    assert snapshot(api.engine) == before


def test_kores_new_hardware_registers_beside_twilios(api: Api) -> None:
    cards = [
        *generate_cards(1, random.Random(5), iccid_prefix="8910392"),
        *generate_cards(1, random.Random(5)),
    ]
    with unit_of_work(api.engine, write=True) as session:
        import_cards(session, cards, clock=api.clock)
    for card in cards:
        body = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
        created = api.post("/v1/Sims", body)
        assert created.status_code == 201, created.text
        assert created.json()["iccid"] == card.iccid
    assert [c.iccid[:7] for c in cards] == ["8910392", "8988307"]


def test_the_control_api_lists_and_revokes_api_clients(api: Api) -> None:
    made = new_client(api, "30d")
    path = f"/control/accounts/{api.creds.account_sid}/api-clients"
    listed = api.control("GET", path).json()
    assert listed["count"] == 1
    assert listed["api_clients"] == [
        {
            "client_id": made["client_id"],
            "name": made["name"],
            "account_sid": api.creds.account_sid,
            "lifetime_seconds": 30 * 86400,
        }
    ]
    refused = api.control("POST", path, {"Lifetime": "1y"})
    assert_error(refused, 400, 20001, "lifetime")
    revoked = api.control("DELETE", f"{path}/{made['client_id']}")
    assert revoked.json() == {"client_id": made["client_id"], "revoked": True}
    assert_error(api.control("DELETE", f"{path}/{made['client_id']}"), 404, 20404)
    assert api.control("GET", path).json()["count"] == 0


def test_bad_tokens_get_401_and_change_nothing(api: Api) -> None:
    client = new_client(api)
    expiring = fetch_token(api, client)["access_token"]
    revoked_client = new_client(api, "24mo")
    revoked = fetch_token(api, revoked_client)["access_token"]
    path = f"/control/accounts/{api.creds.account_sid}/api-clients/{revoked_client['client_id']}"
    assert api.control("DELETE", path).status_code == 200
    api.control("POST", "/control/clock/advance", {"Seconds": "3600"})
    other = api.new_account()
    forged = fetch_token(api, new_client(api, "24mo", other))["access_token"][:-4] + "AAAA"
    # (No credentials at all: the auth matrix.)
    headers = [
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not*a*token"},
        {"Authorization": "Bearer " + "A" * 600},
        bearer(expiring),
        bearer(revoked),
        bearer(forged),
    ]
    before = snapshot(api.engine)
    for header in headers:
        for method, target, body in (
            ("POST", "/v1/Fleets", {"UniqueName": "never"}),
            ("POST", "/v1/secrets", {"Name": "never"}),
            ("POST", "/v1/clients", {"name": "never"}),
        ):
            response = api.client.request(method, target, json=body, headers=header)
            if target == "/v1/Fleets":
                assert_error(response, 401, 20003, "Authenticate", dialect=KORE)
            else:  # KORE's management APIs
                assert_management_error(response, 401, 20003, "Authenticate")
    assert snapshot(api.engine) == before


def test_bad_json_bodies_under_bearer_answer_400_and_change_nothing(api: Api) -> None:
    headers = {
        **bearer(fetch_token(api, new_client(api))["access_token"]),
        "Content-Type": "application/json",
    }
    cases = [
        (b'{"UniqueName": {"nested": 1}}', "UniqueName: must be a string"),
        (b'["UniqueName"]', "must be a JSON object"),
        (b"{", "not valid JSON"),
        (b'{"UniqueName": "\xff"}', "UTF-8"),
        (b'{"DataLimit": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b"[" * 100_000, "Request body larger"),
        (b'{"DataLimit": "many"}', "DataLimit: must be an integer"),
        (b'{"NetworkAccessProfile": "HA' + b"0" * 32 + b'", "UniqueName": "a\\u0000"}', "NUL"),
    ]
    before = snapshot(api.engine)
    for raw, words in cases:
        response = api.client.post("/v1/Fleets", content=raw, headers=headers)
        status = 413 if len(raw) > 64 * 1024 else 400
        assert_error(response, status, 20413 if status == 413 else 20001, words, dialect=KORE)
    refused = api.client.post(
        "/v1/secrets", content=b'{"Name": ' + b"1" * 5000 + b"}", headers=headers
    )
    assert_management_error(refused, 400, 20001, "not valid JSON")
    assert snapshot(api.engine) == before


def test_kores_spec_differs_from_twilios_only_in_two_page_size_limits() -> None:
    twilio, kore = operations(), operations(Dialect.KORE)
    assert set(twilio) == set(kore)
    differences = {
        (op_id, name, kore[op_id].params[name].maximum)
        for op_id in twilio
        for name in twilio[op_id].params
        if twilio[op_id].params[name] != kore[op_id].params.get(name)
    }
    assert differences == {("ListIpCommand", "PageSize", 100), ("ListUsageRecord", "PageSize", 249)}
    assert all(in_dialect(twilio[op_id], Dialect.TWILIO) is twilio[op_id] for op_id in twilio)
