"""UsageRecords: every validation error (83600-83605) with its code and message, the limits
that are inclusive, and the rate card's dated prices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fleetsim.billing.rates import parse_rate_card
from tests.api.conftest import Api, assert_error
from tests.api.test_usage_records import at

# --- validation ------------------------------------------------------------------------

# The clock starts at 2026-01-15T12:00:00Z: the oldest StartTime is 2024-07-15T00:00:00Z.
INVALID: list[tuple[dict[str, str], int, str]] = [
    ({"Sim": "HS" + "0" * 32}, 83600, "Super SIM"),
    ({"Sim": "no-such-sim"}, 83600, "no-such-sim"),
    ({"Fleet": "no-such-fleet"}, 83600, "no-such-fleet"),
    ({"Network": "HW" + "0" * 32}, 83600, "Network"),
    ({"IsoCountry": "USA"}, 83600, "IsoCountry"),
    ({"StartTime": "2026-01-10T00:00:00Z", "EndTime": "2026-01-10T00:00:00Z"}, 83600, "StartTime"),
    ({"StartTime": "2026-01-11T00:00:00Z", "EndTime": "2026-01-10T00:00:00Z"}, 83600, "EndTime"),
    (
        {
            "Granularity": "day",
            "StartTime": "2026-01-10T01:00:00Z",
            "EndTime": "2026-01-11T00:00:00Z",
        },
        83601,
        "day",
    ),
    (
        {
            "Granularity": "day",
            "StartTime": "2026-01-10T00:00:00Z",
            "EndTime": "2026-01-11T00:00:01Z",
        },
        83601,
        "day",
    ),
    (
        {
            "Granularity": "hour",
            "StartTime": "2026-01-10T00:30:00Z",
            "EndTime": "2026-01-11T00:00:00Z",
        },
        83602,
        "hour",
    ),
    (
        {"Group": "sim", "StartTime": "2025-12-01T00:00:00Z", "EndTime": "2026-01-01T00:00:01Z"},
        83603,
        "31 days",
    ),
    ({"StartTime": "2024-07-15T00:00:00Z", "EndTime": "2026-01-15T00:00:01Z"}, 83604, "18 months"),
    (
        {
            "Granularity": "day",
            "StartTime": "2025-09-01T00:00:00Z",
            "EndTime": "2025-12-02T00:00:00Z",
        },
        83604,
        "3 months",
    ),
    (
        {
            "Granularity": "hour",
            "StartTime": "2025-12-01T00:00:00Z",
            "EndTime": "2026-01-01T01:00:00Z",
        },
        83604,
        "31 days",
    ),
    (
        {"StartTime": "2024-07-14T23:59:59Z", "EndTime": "2024-08-01T00:00:00Z"},
        83605,
        "2024-07-15T00:00:00Z",
    ),
    ({"StartTime": "yesterday"}, 20001, "StartTime"),
    ({"Granularity": "week"}, 20001, "Granularity"),
    ({"Group": "account"}, 20001, "Group"),
]


@pytest.mark.parametrize(("params", "code", "word"), INVALID)
def test_invalid_requests(api: Api, params: dict[str, str], code: int, word: str) -> None:
    assert_error(api.get("/v1/UsageRecords", params=params), 400, code, word)


def test_limits_are_inclusive(api: Api) -> None:
    ok = [
        {"Group": "sim", "StartTime": "2025-12-01T00:00:00Z", "EndTime": "2026-01-01T00:00:00Z"},
        {"StartTime": "2024-07-15T00:00:00Z", "EndTime": "2026-01-15T00:00:00Z"},
        {
            "Granularity": "day",
            "StartTime": "2025-09-01T00:00:00Z",
            "EndTime": "2025-12-01T00:00:00Z",
        },
        {
            "Granularity": "hour",
            "StartTime": "2025-12-01T00:00:00Z",
            "EndTime": "2026-01-01T00:00:00Z",
        },
    ]
    for params in ok:
        response = api.get("/v1/UsageRecords", params={**params, "PageSize": "1"})
        assert response.status_code == 200, (params, response.text)


# --- the rate card ---------------------------------------------------------------------


def test_a_dated_price_applies_only_from_its_date() -> None:
    card = parse_rate_card(
        "# a comment\n"
        "iso_country,effective_from,price_per_mb\n"
        "*,2020-01-01T00:00:00Z,0.10\n"
        "FR,2020-01-01T00:00:00Z,0.05\n"
        "FR,2026-03-01T00:00:00Z,0.07\n"
    )
    assert card.price_per_mb("FR", at("2026-02-28T23:00:00Z")) == Decimal("0.05")
    assert card.price_per_mb("fr", at("2026-03-01T00:00:00Z")) == Decimal("0.07")
    assert card.price_per_mb("DE", at("2026-03-01T00:00:00Z")) == Decimal("0.10")
    assert card.price_per_mb("DE", at("2019-01-01T00:00:00Z")) == Decimal(0)
    assert card.cost("FR", at("2026-03-02T00:00:00Z"), 1_500_000) == Decimal("0.105")
    with pytest.raises(ValueError, match="row 2"):
        parse_rate_card("iso_country,effective_from,price_per_mb\nUSA,2020-01-01,1\n")
