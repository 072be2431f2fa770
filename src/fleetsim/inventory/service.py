"""The warehouse of physical SIM cards that `POST /v1/Sims` registers."""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.iccid import ICCID_PREFIXES, is_valid_iccid, new_iccid, new_registration_code
from fleetsim.db.tables import SimCard

__all__ = [
    "Card",
    "CardFileError",
    "ImportResult",
    "generate_cards",
    "import_cards",
    "new_cards",
    "read_cards",
    "unknown_cards",
    "write_cards",
]

_BATCH = 1000


@dataclass(frozen=True)
class Card:
    iccid: str
    registration_code: str


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_known: int


class CardFileError(ValueError):
    """A card file that cannot be loaded; the message says which line and why."""


def generate_cards(
    count: int, rng: random.Random, *, iccid_prefix: str = ICCID_PREFIXES[0]
) -> Iterator[Card]:
    """`count` distinct new cards with real-looking ICCIDs starting with `iccid_prefix`
    (Twilio's Super SIMs by default; `8910392` for KORE's since 2025)."""
    return itertools.islice(new_cards(rng, iccid_prefix=iccid_prefix), count)


def new_cards(rng: random.Random, *, iccid_prefix: str = ICCID_PREFIXES[0]) -> Iterator[Card]:
    """Distinct new cards, as many as are taken (see `generate_cards`)."""
    seen: set[str] = set()
    while True:
        iccid = new_iccid(rng, prefix=iccid_prefix)
        if iccid in seen:
            continue
        seen.add(iccid)
        yield Card(iccid, new_registration_code(rng))


def unknown_cards(session: Session, cards: Iterator[Card], count: int) -> list[Card]:
    """The next `count` of `cards` whose ICCIDs the warehouse does not hold (fewer when
    `cards` runs out): a random ICCID may be one it holds under another registration code,
    and a card made with it could then not be registered."""
    found: list[Card] = []
    while len(found) < count:
        batch = list(itertools.islice(cards, count - len(found)))
        if not batch:
            break
        known = _known_iccids(session, [card.iccid for card in batch])
        found += [card for card in batch if card.iccid not in known]
    return found


def _known_iccids(session: Session, iccids: list[str]) -> set[str]:
    """Which of `iccids` the warehouse holds."""
    known: set[str] = set()
    for start in range(0, len(iccids), _BATCH):
        chunk = iccids[start : start + _BATCH]
        known.update(
            session.execute(select(SimCard.iccid).where(SimCard.iccid.in_(chunk))).scalars()
        )
    return known


def write_cards(cards: Iterable[Card], out: io.TextIOBase) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["iccid", "registration_code"])
    writer.writerows((c.iccid, c.registration_code) for c in cards)


def read_cards(text: Iterable[str]) -> list[Card]:
    """Parse and check an `iccid,registration_code` CSV; every problem names its line."""
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != ["iccid", "registration_code"]:
        raise CardFileError("line 1: the header must be exactly: iccid,registration_code")
    cards: list[Card] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != 2:
            raise CardFileError(f"line {line}: expected 2 columns, found {len(row)}")
        iccid, code = row[0].strip(), row[1].strip()
        if not is_valid_iccid(iccid):
            raise CardFileError(
                f"line {line}: {iccid!r} is not an ICCID (19-20 digits, valid Luhn check digit)"
            )
        if not (len(code) == 10 and code.isascii() and code.isalnum()):
            raise CardFileError(f"line {line}: the registration code must be 10 letters or digits")
        if iccid in seen:
            raise CardFileError(f"line {line}: ICCID {iccid} appears twice in the file")
        seen.add(iccid)
        cards.append(Card(iccid, code.upper()))
    return cards


def import_cards(
    session: Session,
    cards: list[Card],
    *,
    clock: Clock,
    progress: Callable[[int], None] = lambda _: None,
) -> ImportResult:
    """Add the cards the warehouse lacks; cards already known are left as they are."""
    added = known = 0
    now = clock.now()
    for start in range(0, len(cards), _BATCH):
        batch = cards[start : start + _BATCH]
        existing = _known_iccids(session, [c.iccid for c in batch])
        fresh = [c for c in batch if c.iccid not in existing]
        if fresh:
            session.connection().execute(
                insert(SimCard),
                [
                    {
                        "iccid": c.iccid,
                        "registration_code": c.registration_code,
                        "date_created": now,
                    }
                    for c in fresh
                ],
            )
        added += len(fresh)
        known += len(batch) - len(fresh)
        progress(len(batch))
    return ImportResult(added=added, already_known=known)
