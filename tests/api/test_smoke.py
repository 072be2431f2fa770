"""The app answers, on both backends, with Twilio's conventions."""

from __future__ import annotations

from tests.api.conftest import Api, assert_error


def test_networks_list_is_paged_with_absolute_urls(api: Api) -> None:
    body = api.get("/v1/Networks", params={"IsoCountry": "US", "PageSize": 2}).json()
    assert body["meta"]["key"] == "networks"
    assert len(body["networks"]) == 2
    assert body["meta"]["url"] == "http://fleetsim.test/v1/Networks?IsoCountry=US&PageSize=2&Page=0"
    assert body["meta"]["next_page_url"].startswith("http://fleetsim.test/v1/Networks?")


def test_wrong_token_is_20003(api: Api) -> None:
    response = api.get("/v1/Fleets", auth=(api.creds.username, "0" * 32))
    assert_error(response, 401, 20003, "Authenticate")
