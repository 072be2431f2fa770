"""Who a request acts for, and how malformed requests are refused (never with a 5xx)."""

from __future__ import annotations

import base64
import inspect
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
from starlette.exceptions import HTTPException

from fleetsim.core.dialect import dialect_of
from fleetsim.core.errors import TwilioError
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from tests.api.conftest import Api, Credentials, assert_error

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PROFILES = "/v1/NetworkAccessProfiles"


def basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def assert_401(response: httpx.Response) -> None:
    assert_error(response, 401, 20003, "Authenticate")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def new_profile(api: Api, unique_name: str, as_: Credentials | None = None) -> str:
    response = api.post(PROFILES, data={"UniqueName": unique_name}, as_=as_)
    assert response.status_code == 201, response.text
    sid: str = response.json()["sid"]
    return sid


def profile_names(api: Api, as_: Credentials | None = None) -> list[str | None]:
    response = api.get(PROFILES, as_=as_)
    assert response.status_code == 200, response.text
    return [p["unique_name"] for p in response.json()["network_access_profiles"]]


def register_sims(api: Api, count: int, as_: Credentials) -> list[str]:
    sids = []
    for card in api.cards(count):
        data = {"Iccid": card.iccid, "RegistrationCode": card.registration_code}
        response = api.post("/v1/Sims", data=data, as_=as_)
        assert response.status_code == 201, response.text
        sids.append(response.json()["sid"])
    return sids


def post_raw(api: Api, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return api.post(PROFILES, content=body, headers=headers or FORM)


# --- authentication --------------------------------------------------------------------


def test_no_authorization_header_is_401(api: Api) -> None:
    assert_401(api.get("/v1/Fleets", auth=None))
    assert_401(api.post(PROFILES, data={"UniqueName": "x"}, auth=None))
    assert profile_names(api) == []


def test_wrong_token_is_401(api: Api) -> None:
    assert_401(api.get("/v1/Sims", auth=(api.creds.username, "0" * 32)))
    assert_401(api.get("/v1/Sims", auth=(api.creds.username, "")))
    assert_401(api.get("/v1/Sims", auth=(api.creds.username, api.creds.password + "x")))


def test_unknown_account_sid_is_401(api: Api) -> None:
    assert_401(api.get("/v1/Sims", auth=("AC" + "0" * 32, api.creds.password)))
    assert_401(api.get("/v1/Sims", auth=("nobody", api.creds.password)))


MALFORMED_AUTHORIZATION = [
    "",
    "Basic",
    "Basic ",
    "Bearer abcdef",
    "Digest username=x",
    "Basic !!!not-base64!!!",
    "Basic YWJj=",  # bad padding
    basic(b"no-colon-here")["Authorization"],
    basic(b":password-only")["Authorization"],
    basic(b"\xff\xfe:\xff")["Authorization"],  # not UTF-8
]


def test_malformed_authorization_is_401(api: Api) -> None:
    for header in MALFORMED_AUTHORIZATION:
        response = api.get("/v1/Sims", auth=None, headers={"Authorization": header})
        assert response.status_code == 401, header
        # A Bearer header is answered in KORE's dialect (tests/api/test_kore.py).
        assert_error(response, 401, 20003, "Authenticate", dialect=dialect_of(header))


def test_the_credentials_of_one_account_do_not_open_another(api: Api) -> None:
    other = api.new_account()
    assert_401(api.get("/v1/Sims", auth=(other.username, api.creds.password)))


def test_api_key_acts_for_its_account(api: Api) -> None:
    new_profile(api, "mine")
    other = api.new_account()
    new_profile(api, "theirs", as_=other)
    key = api.new_api_key()
    assert profile_names(api, as_=key) == ["mine"]
    created = api.post(PROFILES, data={"UniqueName": "by-key"}, as_=key)
    assert created.status_code == 201, created.text
    assert created.json()["account_sid"] == api.creds.account_sid
    assert profile_names(api) == ["mine", "by-key"]
    other_key = api.new_api_key(other)
    assert profile_names(api, as_=other_key) == ["theirs"]
    assert_error(api.get(f"{PROFILES}/mine", as_=other_key), 404, 20404)


def test_api_key_with_a_wrong_secret_is_401(api: Api) -> None:
    key = api.new_api_key()
    assert_401(api.get("/v1/Sims", auth=(key.username, "0" * 32)))
    assert_401(api.get("/v1/Sims", auth=(key.username, "")))
    # Neither half may be swapped for the account's.
    assert_401(api.get("/v1/Sims", auth=(key.username, api.creds.password)))
    assert_401(api.get("/v1/Sims", auth=(api.creds.username, key.password)))
    assert_401(api.get("/v1/Sims", auth=("SK" + "0" * 32, key.password)))


def test_an_account_that_is_not_active_cannot_authenticate(api: Api) -> None:
    key = api.new_api_key()
    with unit_of_work(api.engine, write=True) as session:
        session.query(Account).filter_by(sid=api.creds.account_sid).one().status = "suspended"
    assert_401(api.get("/v1/Sims"))
    assert_401(api.get("/v1/Sims", as_=key))


def test_a_subaccount_and_its_parent_see_only_their_own(api: Api) -> None:
    parent_sid = new_profile(api, "parents")
    sub = api.new_account(parent=api.creds)
    sub_sid = new_profile(api, "subs", as_=sub)
    assert_error(api.get(f"{PROFILES}/{parent_sid}", as_=sub), 404, 20404, parent_sid)
    assert_error(api.get(f"{PROFILES}/parents", as_=sub), 404, 20404)
    assert_error(api.get(f"{PROFILES}/{sub_sid}"), 404, 20404, sub_sid)
    assert_error(api.get(f"{PROFILES}/subs"), 404, 20404)
    assert profile_names(api) == ["parents"]
    assert profile_names(api, as_=sub) == ["subs"]
    # Nor can either change the other's.
    response = api.post(f"{PROFILES}/{sub_sid}", data={"UniqueName": "taken"})
    assert_error(response, 404, 20404)
    assert profile_names(api, as_=sub) == ["subs"]


def test_health_needs_no_authentication(api: Api) -> None:
    response = api.get("/health", auth=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


# --- routing ---------------------------------------------------------------------------


def test_unknown_path_is_404(api: Api) -> None:
    # `/` is the home page (tests/api/test_home.py).
    paths = ["/v1/Nope", "/v2/Sims", "/v1/sims", f"/v1/Sims/HS{'0' * 32}/Nope", "/v1"]
    for path in paths:
        assert_error(api.get(path), 404, 20404, "not found", path)


def test_wrong_method_is_405(api: Api) -> None:
    sim = "/v1/Sims/HS" + "0" * 32
    attempts = [
        ("DELETE", "/v1/Fleets"),
        ("PUT", "/v1/Fleets"),
        ("PATCH", "/v1/Fleets"),
        ("PUT", sim),
        ("DELETE", sim),
        ("POST", "/v1/Networks"),
        ("POST", "/health"),
    ]
    for method, path in attempts:
        assert_error(api.request(method, path), 405, 20004, method, path)
    assert profile_names(api) == []


def test_the_routers_error_answers_are_made_on_the_event_loop(api: Api) -> None:
    """Starlette hands a plain function exception handler to a worker thread: each 404 of
    an unknown path or 405 would wait for one."""
    handlers = api.client.app.exception_handlers  # type: ignore[attr-defined]
    assert set(handlers) == {TwilioError, HTTPException, Exception}
    assert all(inspect.iscoroutinefunction(handler) for handler in handlers.values())


# --- request bodies --------------------------------------------------------------------


def test_json_body_is_415(api: Api) -> None:
    response = api.post(PROFILES, json={"UniqueName": "json"})
    assert_error(response, 415, 20415, "form-encoded")
    response = post_raw(api, b"UniqueName=x", {"Content-Type": "multipart/form-data; boundary=b"})
    assert_error(response, 415, 20415)
    assert profile_names(api) == []


def test_form_with_a_charset_is_accepted(api: Api) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    assert post_raw(api, b"UniqueName=caf%C3%A9", headers).status_code == 201
    assert profile_names(api) == ["café"]


def test_body_over_64_kib_is_413(api: Api) -> None:
    body = b"UniqueName=x&Filler=" + b"a" * (70 * 1024)
    assert_error(post_raw(api, body), 413, 20413)
    assert profile_names(api) == []


def test_streamed_body_over_64_kib_is_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"UniqueName=x&Filler="
        for _ in range(70):
            yield b"a" * 1024

    response = api.post(PROFILES, content=chunks(), headers=FORM)
    assert_error(response, 413, 20413)
    assert profile_names(api) == []


def test_invalid_utf8_in_the_form_is_400(api: Api) -> None:
    for body in (b"UniqueName=%FF", b"UniqueName=\xff\xfe", b"%FF=x"):
        assert_error(post_raw(api, body), 400, 20001, "UTF-8")
    assert profile_names(api) == []


def test_invalid_utf8_in_the_query_is_400(api: Api) -> None:
    assert_error(api.get("/v1/Sims?Status=%FF"), 400, 20001, "UTF-8")


def test_invalid_percent_escape_is_400(api: Api) -> None:
    for body in (b"UniqueName=%ZZ", b"UniqueName=a%", b"UniqueName=%4"):
        assert_error(post_raw(api, body), 400, 20001, "percent-encoding")
    assert profile_names(api) == []


def test_nul_byte_in_a_value_is_400(api: Api) -> None:
    assert_error(post_raw(api, b"UniqueName=a%00b"), 400, 20001, "UniqueName", "NUL")
    assert_error(api.get("/v1/Sims", params={"Fleet": "a\x00b"}), 400, 20001, "Fleet", "NUL")
    assert profile_names(api) == []


def test_repeated_scalar_parameter_is_400(api: Api) -> None:
    response = api.post(PROFILES, data={"UniqueName": ["a", "b"]})
    assert_error(response, 400, 20001, "UniqueName", "more than once")
    response = api.get("/v1/Sims", params={"Status": ["new", "new"]})
    assert_error(response, 400, 20001, "Status", "more than once")
    assert profile_names(api) == []


def test_repeated_array_parameter_is_accepted(api: Api) -> None:
    networks = api.network_sids(2)
    response = api.post(PROFILES, data={"UniqueName": "two", "Networks": networks})
    assert response.status_code == 201, response.text
    listed = api.get(f"{PROFILES}/two/Networks").json()["networks"]
    assert sorted(n["sid"] for n in listed) == sorted(networks)


def test_unknown_parameters_are_ignored(api: Api) -> None:
    response = api.post(PROFILES, data={"UniqueName": "known", "Bogus": "x", "uniquename": "y"})
    assert response.status_code == 201, response.text
    assert response.json()["unique_name"] == "known"
    listed = api.get(PROFILES, params={"Bogus": "1", "PageSize": 5}).json()
    assert [p["unique_name"] for p in listed["network_access_profiles"]] == ["known"]
    # Unknown query parameters are not echoed into the paging links either.
    assert "Bogus" not in listed["meta"]["url"]


def test_very_long_unique_name_is_400(api: Api) -> None:
    for length in (257, 5000):
        response = api.post(PROFILES, data={"UniqueName": "n" * length})
        assert_error(response, 400, 20001, "UniqueName")
    assert profile_names(api) == []


# --- paging across accounts -------------------------------------------------------------


def test_a_page_token_from_another_account_reveals_nothing(api: Api) -> None:
    other = api.new_account()
    mine: list[str] = []
    theirs: list[str] = []
    for _ in range(3):  # interleaved, so row ids of both accounts alternate
        mine += register_sims(api, 1, api.creds)
        theirs += register_sims(api, 1, other)
    first = api.get("/v1/Sims", params={"PageSize": 2}).json()
    assert [s["sid"] for s in first["sims"]] == mine[:2]
    next_url: str = first["meta"]["next_page_url"]
    response = api.get(next_url, as_=other)
    assert response.status_code == 200, response.text
    seen = [s["sid"] for s in response.json()["sims"]]
    assert seen, "the token shifts B's listing but B still sees its own Sims"
    assert set(seen) <= set(theirs)
    assert all(s["account_sid"] == other.account_sid for s in response.json()["sims"])
    previous = response.json()["meta"]["previous_page_url"]
    if previous is not None:
        back = api.get(previous, as_=other).json()["sims"]
        assert {s["sid"] for s in back} <= set(theirs)


# --- never a 5xx ------------------------------------------------------------------------


def test_hostile_requests_never_answer_5xx(api: Api) -> None:
    sim = "HS" + "0" * 32
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/Sims", {"params": {"PageToken": "PA" + "%" * 40}}),
        ("GET", "/v1/Sims", {"params": {"PageSize": "9" * 40}}),
        ("GET", "/v1/Sims", {"params": {"Page": "-" + "9" * 40}}),
        ("GET", "/v1/Sims", {"params": {"Iccid": "'; DROP TABLE sims; --"}}),
        ("GET", "/v1/Sims", {"params": {"Fleet": "%", "Status": "new"}}),
        ("GET", f"/v1/Sims/{'x' * 3000}", {}),
        ("GET", "/v1/Sims/%25", {}),
        ("GET", "/v1/Sims/%F0%9F%93%B1", {}),
        ("POST", f"/v1/Sims/{sim}", {"data": {"AccountSid": "AC" + "Z" * 32}}),
        ("POST", "/v1/Sims", {"data": {"Iccid": "9" * 4096, "RegistrationCode": "x"}}),
        ("POST", "/v1/Sims", {"data": {"Iccid": "\u00e9", "RegistrationCode": "\u00e9"}}),
        ("POST", PROFILES, {"content": b"=&&=&UniqueName", "headers": FORM}),
        ("POST", PROFILES, {"content": b"", "headers": {"Content-Length": "999999999"}}),
        ("POST", "/v1/Fleets", {"data": {"NetworkAccessProfile": "", "DataLimit": "1e9"}}),
    ]
    for method, path, kwargs in attempts:
        response = api.request(method, path, **kwargs)
        assert response.status_code < 500, (method, path, response.text)


def test_a_trailing_slash_is_404_not_a_redirect(api: Api) -> None:
    response = api.get("/v1/Sims/", follow_redirects=False)
    assert_error(response, 404, 20404, "/v1/Sims/")
