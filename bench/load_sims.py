"""Load many Sims into one account fast, for the benchmarks: bulk SQL inserts of the very
rows `POST /v1/Sims` writes for a registered card (the card in the warehouse, the Sim in
status `new` in no Fleet, its first status event, its detached device), in batches.

Registering through the service costs about 1 ms a Sim (ORM, one unit of work each);
this writes 1,000,000 in well under a minute on SQLite.

    .venv/bin/python bench/load_sims.py --database-url sqlite:///big.db --account AC... \
        --count 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
import time
from collections.abc import Callable

from sqlalchemy import Engine, func, select

from fleetsim.app.setup import prepare_database
from fleetsim.core.clock import SystemClock
from fleetsim.core.iccid import imei_for, luhn_check_digit
from fleetsim.db.tables import Account, Sim, SimCard
from fleetsim.db.types import UTCDateTime

__all__ = ["load_sims"]

BATCH = 20_000
# 89 88 307 as fleetsim's own cards, then a digit no random card of the bench uses here.
_ICCID_PREFIX = "89883079"


def load_sims(
    engine: Engine,
    account_sid: str,
    count: int,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> None:
    """Add `count` registered Sims (status `new`) to the account, oldest first."""
    stamp = (now or SystemClock().now()).replace(microsecond=0)
    dialect = engine.dialect
    # The value exactly as the ORM stores it (naive UTC, in the driver's format).
    stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stamp_value = stored(stamp) if stored else stamp.replace(tzinfo=None)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    # Table and column names are this module's constants, never input.
    statements = {
        table: f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608, E501
        for table, columns in _COLUMNS.items()
    }
    with engine.begin() as connection:
        account_id = connection.execute(
            select(Account.id).where(Account.sid == account_sid)
        ).scalar_one()
        first_id = (connection.execute(select(func.max(Sim.id))).scalar() or 0) + 1
        first_card = connection.execute(select(func.count()).select_from(SimCard)).scalar_one()
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        rows: dict[str, list[tuple[object, ...]]] = {table: [] for table in _COLUMNS}
        for offset in range(done, done + size):
            sim_id = first_id + offset
            body = _ICCID_PREFIX + f"{first_card + offset:011d}"
            iccid = body + luhn_check_digit(body)
            sid = "HS" + secrets.token_hex(16)
            rows["sim_cards"].append((iccid, "BENCH00000", stamp_value))
            rows["sims"].append(
                (sim_id, sid, account_id, iccid, "new", stamp_value, stamp_value, False)
            )
            rows["sim_status_events"].append((sim_id, "new", stamp_value))
            rows["devices"].append((sim_id, imei_for(sim_id), "detached", 0, 0, False))
        with engine.begin() as connection:
            if dialect.name == "sqlite":
                # A big page cache for this connection: the random SID index stays in
                # memory (1,000,000 Sims load in 40 s instead of minutes).
                connection.exec_driver_sql("PRAGMA cache_size=-262144")
            for table, values in rows.items():
                connection.exec_driver_sql(statements[table], values)
        done += size
        progress(done)


# The columns of the rows `register_sim` writes; the others keep their defaults (NULL).
_COLUMNS = {
    "sim_cards": ("iccid", "registration_code", "date_created"),
    "sims": (
        "id",
        "sid",
        "account_id",
        "iccid",
        "status",
        "date_created",
        "date_updated",
        "fleet_change_pending",
    ),
    "sim_status_events": ("sim_id", "status", "occurred_at"),
    "devices": ("sim_id", "imei", "state", "session_upload", "session_download", "data_blocked"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--account", required=True, help="Account SID (the account must exist)")
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    engine = prepare_database(args.database_url)
    began = time.perf_counter()
    load_sims(
        engine,
        args.account,
        args.count,
        progress=lambda done: print(f"\r{done:,} Sims", end="", file=sys.stderr),
    )
    elapsed = time.perf_counter() - began
    print(f"\n{args.count:,} Sims in {elapsed:.1f} s ({args.count / elapsed:,.0f}/s)")
    engine.dispose()


if __name__ == "__main__":
    main()
