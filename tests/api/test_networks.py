"""The Networks catalogue: read-only, shared by every account, filtered and paged."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import BASE, Api, assert_error

NETWORK_SID = re.compile(r"^HW[0-9a-f]{32}$")
NETWORK_KEYS = {"friendly_name", "iso_country", "identifiers", "sid", "url"}


def _networks(api: Api, query: str) -> dict[str, Any]:
    response = api.get(f"/v1/Networks?{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _sids(body: dict[str, Any]) -> list[str]:
    return [n["sid"] for n in body["networks"]]


def _all_pages(api: Api, url: str) -> list[dict[str, Any]]:
    """Every page from `url` on, following `next_page_url` verbatim."""
    pages: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        response = api.get(next_url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"]["url"] == next_url
        pages.append(body)
        next_url = body["meta"]["next_page_url"]
    return pages


def test_list_renders_networks_with_absolute_urls(api: Api) -> None:
    body = _networks(api, "IsoCountry=US&PageSize=20")
    assert body["meta"]["key"] == "networks"
    assert body["meta"]["page"] == 0
    assert body["meta"]["page_size"] == 20
    assert body["meta"]["previous_page_url"] is None
    assert len(body["networks"]) == 20
    for network in body["networks"]:
        assert set(network) == NETWORK_KEYS
        assert NETWORK_SID.match(network["sid"])
        assert network["iso_country"] == "US"
        assert network["url"] == f"{BASE}/v1/Networks/{network['sid']}"
        assert network["friendly_name"]
        assert network["identifiers"]
        for identifier in network["identifiers"]:
            assert set(identifier) == {"mcc", "mnc"}
            assert isinstance(identifier["mcc"], str)
            assert isinstance(identifier["mnc"], str)


def test_default_page_size_is_50(api: Api) -> None:
    body = _networks(api, "")
    assert body["meta"]["page_size"] == 50
    assert len(body["networks"]) == 50
    assert body["meta"]["url"] == f"{BASE}/v1/Networks?PageSize=50&Page=0"
    assert body["meta"]["first_page_url"] == body["meta"]["url"]


def test_iso_country_matches_case_insensitively_and_is_echoed_as_given(api: Api) -> None:
    upper = _networks(api, "IsoCountry=US&PageSize=1000")
    lower = _networks(api, "IsoCountry=us&PageSize=1000")
    assert _sids(lower) == _sids(upper)
    assert _sids(upper)
    assert {n["iso_country"] for n in lower["networks"]} == {"US"}
    assert lower["meta"]["url"] == f"{BASE}/v1/Networks?IsoCountry=us&PageSize=1000&Page=0"


def test_unknown_country_gives_an_empty_page(api: Api) -> None:
    body = _networks(api, "IsoCountry=ZZ")
    assert body["networks"] == []
    assert body["meta"]["next_page_url"] is None
    assert body["meta"]["previous_page_url"] is None


def test_mcc_and_mnc_filter_and_the_url_echoes_filters_in_the_order_supplied(api: Api) -> None:
    body = _networks(api, "IsoCountry=US&Mnc=410&Mcc=310")
    assert body["meta"]["url"] == (
        f"{BASE}/v1/Networks?IsoCountry=US&Mnc=410&Mcc=310&PageSize=50&Page=0"
    )
    assert body["meta"]["first_page_url"] == body["meta"]["url"]
    assert [n["friendly_name"] for n in body["networks"]] == ["AT&T"]
    assert {"mcc": "310", "mnc": "410"} in body["networks"][0]["identifiers"]


def test_mcc_alone_and_mnc_alone_filter(api: Api) -> None:
    by_mcc = _networks(api, "Mcc=310&PageSize=1000")
    assert by_mcc["networks"]
    for network in by_mcc["networks"]:
        assert any(i["mcc"] == "310" for i in network["identifiers"]), network
    by_mnc = _networks(api, "Mnc=410&PageSize=1000")
    assert by_mnc["networks"]
    for network in by_mnc["networks"]:
        assert any(i["mnc"] == "410" for i in network["identifiers"]), network
    both = set(_sids(_networks(api, "Mcc=310&Mnc=410")))
    assert both
    assert both <= set(_sids(by_mcc)) & set(_sids(by_mnc))


def test_mcc_and_mnc_must_match_the_same_identifier(api: Api) -> None:
    networks = _networks(api, "IsoCountry=US&PageSize=1000")["networks"]
    crossed = next(
        (network, a["mcc"], b["mnc"])
        for network in networks
        for a in network["identifiers"]
        for b in network["identifiers"]
        if a["mcc"] != b["mcc"]
        and a["mnc"] != b["mnc"]
        and {"mcc": a["mcc"], "mnc": b["mnc"]} not in network["identifiers"]
    )
    network, mcc, mnc = crossed
    body = _networks(api, f"Mcc={mcc}&Mnc={mnc}&PageSize=1000")
    assert network["sid"] not in _sids(body)
    for match in body["networks"]:
        assert {"mcc": mcc, "mnc": mnc} in match["identifiers"], match


def test_fetch_by_sid_matches_the_list(api: Api) -> None:
    listed = _networks(api, "Mcc=310&Mnc=410")["networks"][0]
    response = api.get(f"/v1/Networks/{listed['sid']}")
    assert response.status_code == 200
    assert response.json() == listed


def test_fetch_unknown_or_non_network_sid_is_20404(api: Api) -> None:
    for ref in ("HW" + "0" * 32, "HA" + "1" * 32, "AT&T", "not-a-sid"):
        response = api.get(f"/v1/Networks/{ref}")
        assert_error(response, 404, 20404, "was not found")
    assert_error(api.get("/v1/Networks/HA" + "1" * 32), 404, 20404, "/Networks/HA" + "1" * 32)


def test_paging_forward_then_back_visits_every_network_once(api: Api) -> None:
    everything = _sids(_networks(api, "IsoCountry=US&PageSize=1000"))
    assert len(everything) > 14

    first_url = f"{BASE}/v1/Networks?IsoCountry=US&PageSize=7&Page=0"
    pages = _all_pages(api, first_url)
    seen = [sid for page in pages for sid in _sids(page)]
    assert seen == everything
    assert len(seen) == len(set(seen))
    assert len(pages) == -(-len(everything) // 7)
    for number, page in enumerate(pages):
        meta = page["meta"]
        assert meta["page"] == number
        assert meta["page_size"] == 7
        assert meta["first_page_url"] == first_url
        assert meta["url"].startswith(f"{BASE}/v1/Networks?IsoCountry=US&PageSize=7&Page=")
        assert len(page["networks"]) == (7 if number < len(pages) - 1 else len(seen) - 7 * number)
    assert pages[0]["meta"]["previous_page_url"] is None
    assert pages[-1]["meta"]["next_page_url"] is None

    back_url: str | None = pages[-1]["meta"]["previous_page_url"]
    for expected in reversed(pages[:-1]):
        assert back_url is not None
        response = api.get(back_url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"]["page"] == expected["meta"]["page"]
        assert _sids(body) == _sids(expected)
        back_url = body["meta"]["previous_page_url"]
    assert back_url is None


def test_catalogue_is_large_and_has_no_duplicates(api: Api) -> None:
    pages = _all_pages(api, f"{BASE}/v1/Networks?PageSize=1000&Page=0")
    networks = [n for page in pages for n in page["networks"]]
    sids = [n["sid"] for n in networks]
    assert len(sids) == len(set(sids))
    assert len(sids) >= 300
    assert len({n["iso_country"] for n in networks}) >= 100
    assert all(re.fullmatch(r"[A-Z]{2}", n["iso_country"]) for n in networks)


def test_paging_parameters_are_validated(api: Api) -> None:
    assert_error(api.get("/v1/Networks?PageSize=0"), 400, 20001, "PageSize")
    assert_error(api.get("/v1/Networks?PageSize=1001"), 400, 20001, "PageSize")
    assert_error(api.get("/v1/Networks?PageSize=ten"), 400, 20001, "PageSize")
    assert_error(api.get("/v1/Networks?PageToken=garbage"), 400, 21481, "PageToken")
