"""The rate card: the price per MB of data, by country and time of use, in one currency.

Loaded once from `fleetsim/data/rates.csv` (`iso_country,effective_from,price_per_mb`;
lines starting with `#` are comments). `*` is the price for countries without a row of
their own. A row's price applies to usage from its `effective_from` until the next row of
the same country, so the price in effect at the time of use is what counts: to change a
price, add a row dated when the change takes effect, and only usage from then on costs
the new price.

Deviation: Twilio bills from its own price list and records the billed amount with the
usage. fleetsim keeps no price with the usage rows: it prices usage at query time from
the dated rate card, which gives the same result as long as rows are added, not edited
(editing a row re-prices usage already recorded). A MB is 1,000,000 bytes.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

__all__ = ["BYTES_PER_MB", "CURRENCY", "DEFAULT", "RateCard", "parse_rate_card", "rate_card"]

CURRENCY = "USD"
DEFAULT = "*"
BYTES_PER_MB = 1_000_000


@dataclass(frozen=True)
class _Prices:
    """One country's prices, oldest first."""

    starts: list[dt.datetime] = field(default_factory=list)
    prices: list[Decimal] = field(default_factory=list)

    def at(self, when: dt.datetime) -> Decimal | None:
        index = bisect.bisect_right(self.starts, when) - 1
        return self.prices[index] if index >= 0 else None


@dataclass(frozen=True)
class RateCard:
    currency: str
    by_country: dict[str, _Prices]

    def price_per_mb(self, iso_country: str, when: dt.datetime) -> Decimal:
        """The price of one MB used in `iso_country` at `when` (0 before any price)."""
        for key in (iso_country.upper(), DEFAULT):
            prices = self.by_country.get(key)
            price = prices.at(when) if prices is not None else None
            if price is not None:
                return price
        return Decimal(0)

    def changes_between(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """When some price changes strictly between `start` and `end`, oldest first:
        between two of them (and the ends) every country has one price."""
        return sorted(
            {t for prices in self.by_country.values() for t in prices.starts if start < t < end}
        )

    def cost(self, iso_country: str, when: dt.datetime, data_bytes: int) -> Decimal:
        """The exact (unrounded) price of `data_bytes` used in `iso_country` at `when`."""
        return self.price_per_mb(iso_country, when) * data_bytes / BYTES_PER_MB


def parse_rate_card(text: str, *, currency: str = CURRENCY) -> RateCard:
    """A rate card from CSV text; ValueError naming the line if a row is malformed."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    rows: dict[str, list[tuple[dt.datetime, Decimal]]] = {}
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        try:
            country = row["iso_country"].strip().upper()
            start = dt.datetime.fromisoformat(row["effective_from"].strip().replace("Z", "+00:00"))
            price = Decimal(row["price_per_mb"].strip())
        except (KeyError, AttributeError, ValueError, InvalidOperation) as exc:
            raise ValueError(f"rate card row {number}: {exc}") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        if price < 0 or not (country == DEFAULT or (len(country) == 2 and country.isalpha())):
            raise ValueError(f"rate card row {number}: bad country or negative price")
        rows.setdefault(country, []).append((start.astimezone(dt.UTC), price))
    by_country = {}
    for country, entries in rows.items():
        entries.sort()
        by_country[country] = _Prices([s for s, _ in entries], [p for _, p in entries])
    return RateCard(currency, by_country)


@cache
def rate_card() -> RateCard:
    """The rate card of `fleetsim/data/rates.csv`, read on first use."""
    text = resources.files("fleetsim.data").joinpath("rates.csv").read_text("utf-8")
    return parse_rate_card(text)
