"""Generate fleetsim's bundled table of real-world mobile networks.

Why this exists
---------------
The simulated cellular network attaches SIMs to "networks" identified by
real (MCC, MNC) pairs, so fleetsim ships a static ``src/fleetsim/data/networks.csv``
with one row per (network, identifier). Rather than hand-curating that table we
derive it from Wikipedia's "Mobile Network Codes in ITU region ..." tables,
using the JSON extract bundled in the ``mcc-mnc-p1`` dev dependency
(``mcc_mnc_genlib/raw/wikip_mnc.json``).

Licensing: that package's *code* is AGPL-3.0, so this script never imports or
copies any of it. It only locates the package directory with
``importlib.util.find_spec`` (which does not execute the package) and reads the
JSON data file, whose content is Wikipedia-derived and licensed CC BY-SA 3.0.
The script also writes ``NETWORKS-NOTICE.md`` next to the CSV with the required
attribution.

The output is deterministic: network SIDs are a hash of (country, name), and rows
are sorted, so every install and every regeneration yields the same file.

Regenerate with::

    uv run python scripts/make_networks.py
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

DIST_NAME = "mcc-mnc-p1"
EXPECTED_DIST_VERSION = "1.1.0"
PACKAGE_NAME = "mcc_mnc_genlib"
DATA_FILE = ("raw", "wikip_mnc.json")

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "src" / "fleetsim" / "data"
OUT_CSV = OUT_DIR / "networks.csv"
OUT_NOTICE = OUT_DIR / "NETWORKS-NOTICE.md"

CSV_HEADER = ("sid", "friendly_name", "iso_country", "mcc", "mnc")
SID_PREFIX = "HW"

CC_BY_SA_URL = "https://creativecommons.org/licenses/by-sa/3.0/"
WIKIPEDIA_TITLE = "Mobile Network Codes in ITU region"

MIN_NETWORKS = 300
MIN_COUNTRIES = 100

TEST_MCCS = frozenset({"001", "999"})

MCC_RE = re.compile(r"\d{3}")
MNC_RE = re.compile(r"\d{2,3}")
ISO_ALPHA2_RE = re.compile(r"[A-Z]{2}")

# Footnote / reference residue left behind when the wiki tables were rendered:
# "[1]", "[12]", "[a]", "[nb 3]", "[note 2]", "[citation needed]", and
# interlanguage-link markers such as "[fr]", "[ nl ]", "[pt]".
FOOTNOTE_RE = re.compile(
    r"\s*\[\s*(?:\d+|[a-z]|(?:nb|note|n)\s*\d+|citation needed|[a-z]{2,3}(?:-[a-z]+)?)\s*\]",
    re.IGNORECASE,
)
# Anything still looking like wiki/HTML markup after footnotes are removed.
MARKUP_RE = re.compile(r"[\[\]{}<>|]|''|==|&[a-z]+;|&#\d+;|https?://", re.IGNORECASE)

# Names that are placeholders, not networks.
PLACEHOLDER_NAMES = frozenset(
    {"", "-", "\u2014", "?", "n/a", "na", "none", "no name", "unknown", "tbd", "private networks"}
)
# Individual values known to be rendering damage in the extract (two table cells
# or <br>-separated brands run together). Entries with these names are skipped.
KNOWN_GARBLED_NAMES = frozenset({"Colo-Colo MóvilWanderers Móvil"})


@dataclass(frozen=True, order=True)
class Row:
    """One (network, identifier) row of the output, in output sort order."""

    iso_country: str
    friendly_name: str
    mcc: str
    mnc: str

    @property
    def sid(self) -> str:
        return network_sid(self.iso_country, self.friendly_name)


def network_sid(iso_country: str, friendly_name: str) -> str:
    digest = hashlib.sha256(f"{iso_country}|{friendly_name}".encode()).hexdigest()
    return SID_PREFIX + digest[:32]


def die(message: str) -> NoReturn:
    print(f"make_networks: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def locate_data_file() -> Path:
    # find_spec on a top-level package locates it without executing its code.
    spec = importlib.util.find_spec(PACKAGE_NAME)
    if spec is None or not spec.submodule_search_locations:
        die(f"package {PACKAGE_NAME!r} not found; run `uv sync` (dev group) first")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*DATA_FILE)
    if not path.is_file():
        die(f"data file not found: {path}")
    return path


def dist_version() -> str:
    try:
        return importlib.metadata.version(DIST_NAME)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def clean_name(raw: str) -> str:
    """Strip footnote residue and normalise whitespace (incl. NBSP)."""
    text = FOOTNOTE_RE.sub("", raw)
    text = " ".join(text.split())
    text = re.sub(r"\(\s+", "(", text)
    return re.sub(r"\s+\)", ")", text)


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def load_entries(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with path.open(encoding="utf-8") as fh:
        doc = json.load(fh)
    if not (
        isinstance(doc, list)
        and len(doc) == 2
        and isinstance(doc[0], dict)
        and isinstance(doc[1], dict)
    ):
        die(f"unexpected top-level structure in {path}")
    meta: dict[str, Any] = doc[0]
    entries: list[dict[str, Any]] = []
    for region, items in sorted(doc[1].items()):
        if not isinstance(items, list):
            die(f"region {region!r} is not a list")
        entries.extend(item for item in items if isinstance(item, dict))
    return meta, entries


def select_rows(entries: list[dict[str, Any]], skipped: Counter[str]) -> list[Row]:
    rows: list[Row] = []
    for entry in entries:
        if as_str(entry.get("status")).strip().casefold() != "operational":
            skipped["status not operational"] += 1
            continue
        codes = entry.get("codes_alpha_2")
        if not isinstance(codes, list) or len(codes) != 1:
            skipped["not exactly one ISO alpha-2 code"] += 1
            continue
        iso = as_str(codes[0]).strip().upper()
        if not ISO_ALPHA2_RE.fullmatch(iso):
            skipped["malformed ISO alpha-2 code"] += 1
            continue
        mcc = as_str(entry.get("mcc")).strip()
        mnc = as_str(entry.get("mnc")).strip()
        if not MCC_RE.fullmatch(mcc) or not MNC_RE.fullmatch(mnc):
            skipped["malformed mcc/mnc"] += 1
            continue
        if mcc in TEST_MCCS:
            skipped["test network mcc"] += 1
            continue
        brand = clean_name(as_str(entry.get("brand")))
        operator = clean_name(as_str(entry.get("operator")))
        if MARKUP_RE.search(brand) or MARKUP_RE.search(operator):
            skipped["wiki markup in brand/operator"] += 1
            continue
        name = brand or operator
        if name.casefold() in PLACEHOLDER_NAMES:
            skipped["empty or placeholder name"] += 1
            continue
        if name in KNOWN_GARBLED_NAMES:
            skipped["known garbled name"] += 1
            continue
        rows.append(Row(iso, name, mcc, mnc))
    return rows


def merge_case_variants(rows: list[Row]) -> tuple[list[Row], list[str]]:
    """Within a country, names differing only by case are the same network.

    The canonical spelling is the most frequent one, ties broken by sort order.
    """
    spellings: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        spellings[(row.iso_country, row.friendly_name.casefold())][row.friendly_name] += 1
    canonical: dict[tuple[str, str], str] = {}
    merged: list[str] = []
    for (iso, _), counts in sorted(spellings.items()):
        best = min(counts, key=lambda name: (-counts[name], name))
        for name in counts:
            canonical[(iso, name)] = best
        if len(counts) > 1:
            merged.append(f"{iso}: {sorted(counts)} -> {best!r}")
    out = [
        Row(r.iso_country, canonical[(r.iso_country, r.friendly_name)], r.mcc, r.mnc) for r in rows
    ]
    return out, merged


def assign_identifiers(rows: list[Row]) -> tuple[list[Row], int, list[str]]:
    """Dedupe, and give an (mcc, mnc) listed under several countries to the country that
    uses that MCC most (310-260 is T-Mobile US, not Puerto Rico); ties go to sorted order.
    """
    unique = sorted(set(rows))
    usage = Counter((row.mcc, row.iso_country) for row in unique)
    ranked = sorted(unique, key=lambda row: (-usage[(row.mcc, row.iso_country)], row))
    owner: dict[tuple[str, str], Row] = {}
    conflicts: list[str] = []
    for row in ranked:
        key = (row.mcc, row.mnc)
        first = owner.get(key)
        if first is not None:
            conflicts.append(
                f"{row.mcc}-{row.mnc}: kept {first.iso_country}/{first.friendly_name!r}, "
                f"dropped {row.iso_country}/{row.friendly_name!r}"
            )
            continue
        owner[key] = row
    return sorted(owner.values()), len(rows) - len(unique), conflicts


def write_csv(rows: list[Row]) -> None:
    with OUT_CSV.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for row in rows:
            writer.writerow((row.sid, row.friendly_name, row.iso_country, row.mcc, row.mnc))


def write_notice(meta: dict[str, Any], version: str) -> None:
    sources = [s for s in meta.get("source", []) if isinstance(s, str)]
    source_lines = "\n".join(f"- <{url}>" for url in sources) or "- (source list unavailable)"
    text = f"""\
# networks.csv — data source and license

`networks.csv` in this directory is derived from the English Wikipedia tables
"{WIKIPEDIA_TITLE} …":

{source_lines}

It was built from the extract of those tables bundled with the
[`{DIST_NAME}`](https://pypi.org/project/{DIST_NAME}/) package, version {version}
(file `{PACKAGE_NAME}/{"/".join(DATA_FILE)}`). Only that data file was used; none
of the package's (AGPL-licensed) code is used or included.

The Wikipedia content, and therefore `networks.csv`, is licensed under the
Creative Commons Attribution-ShareAlike 3.0 Unported license (CC BY-SA 3.0):
<{CC_BY_SA_URL}>.
This license applies to the data file only, not to the rest of fleetsim.
Attribution: Wikipedia contributors.

## Changes made to the source data

- Kept only entries whose status is "operational", with exactly one ISO 3166-1
  alpha-2 country code, a 3-digit MCC and a 2- or 3-digit MNC (leading zeros
  kept).
- Dropped test networks (MCC 001 and 999), entries with empty or placeholder
  names, and entries whose brand/operator still contained wiki markup.
- Removed footnote/interlanguage markers such as `[1]` or `[fr]` and normalised
  whitespace; the name is the brand, or the operator when the brand is empty.
  Names that differ only by letter case within a country were merged, and a
  few names known to be garbled in the extract were dropped.
- Grouped rows into networks by (country, name); each network has a
  deterministic SID (`HW` + first 32 hex digits of
  `sha256("<ISO country>|<name>")`). Duplicate identifiers were removed, and an
  (MCC, MNC) pair listed under several networks was kept only for the first
  network in (country, name) order.

## Regenerating

    uv run python scripts/make_networks.py
"""
    OUT_NOTICE.write_text(text, encoding="utf-8", newline="\n")


def main() -> int:
    data_path = locate_data_file()
    version = dist_version()
    if version != EXPECTED_DIST_VERSION:
        print(
            f"make_networks: warning: {DIST_NAME} is {version}, "
            f"expected {EXPECTED_DIST_VERSION}; the notice will record {version}",
            file=sys.stderr,
        )
    meta, entries = load_entries(data_path)

    skipped: Counter[str] = Counter()
    rows = select_rows(entries, skipped)
    rows, merged = merge_case_variants(rows)
    candidates = {(r.iso_country, r.friendly_name) for r in rows}
    rows, duplicates, conflicts = assign_identifiers(rows)

    networks = {(r.iso_country, r.friendly_name) for r in rows}
    countries = {r.iso_country for r in rows}
    emptied = sorted(candidates - networks)

    print(f"make_networks: read {len(entries)} entries from {data_path}", file=sys.stderr)
    for reason, count in sorted(skipped.items()):
        print(f"make_networks: skipped {count} entries: {reason}", file=sys.stderr)
    for line in merged:
        print(f"make_networks: merged case variants {line}", file=sys.stderr)
    print(f"make_networks: dropped {duplicates} duplicate identifiers", file=sys.stderr)
    print(
        f"make_networks: dropped {len(conflicts)} identifiers already owned by another network",
        file=sys.stderr,
    )
    for line in conflicts:
        print(f"make_networks:   {line}", file=sys.stderr)
    print(
        f"make_networks: {len(emptied)} networks lost all their identifiers and were dropped",
        file=sys.stderr,
    )
    for iso, name in emptied:
        print(f"make_networks:   {iso}/{name!r}", file=sys.stderr)

    if len(networks) < MIN_NETWORKS or len(countries) < MIN_COUNTRIES:
        die(
            f"only {len(networks)} networks in {len(countries)} countries "
            f"(need >= {MIN_NETWORKS} and >= {MIN_COUNTRIES}); refusing to write output"
        )

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_csv(rows)
    write_notice(meta, version)

    print(f"networks:    {len(networks)}")
    print(f"identifiers: {len(rows)}")
    print(f"countries:   {len(countries)}")
    print(f"wrote {OUT_CSV.relative_to(REPO_ROOT)} and {OUT_NOTICE.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
