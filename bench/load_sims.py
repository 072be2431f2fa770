"""Load many Sims into one account fast, for the benchmarks: cards registered through the
services in batches (`fleetsim.simulation.generator.add_sims`, as `fleetsim simulate`
makes its Sims), each batch in its own transaction; `--fleet` makes them active in it.

    .venv/bin/python bench/load_sims.py --database-url sqlite:///big.db --account AC... \
        --count 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable

from sqlalchemy import Engine

from fleetsim.app.setup import prepare_database
from fleetsim.core.clock import SystemClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import new_cards, unknown_cards
from fleetsim.resources.accounts.service import fetch_account
from fleetsim.resources.fleets.service import find_fleet
from fleetsim.simulation.generator import add_sims

__all__ = ["load_sims"]

BATCH = 5_000


def load_sims(
    engine: Engine,
    account_sid: str,
    count: int,
    *,
    fleet: str | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> None:
    """Add `count` registered Sims to the account, oldest first: `new`, or active in
    `fleet` (a SID or unique name of the account)."""
    at = (now or SystemClock().now()).replace(microsecond=0)
    sids = SidFactory()
    # One stream of cards for the whole load: no ICCID twice.
    cards = new_cards(random.Random())
    done = 0
    while done < count:
        with unit_of_work(engine, write=True) as session:
            batch = unknown_cards(session, cards, min(BATCH, count - done))
            account = fetch_account(session, account_sid)
            fleet_row = find_fleet(session, account, fleet) if fleet is not None else None
            if fleet is not None and fleet_row is None:
                raise LookupError(f"no Fleet {fleet!r} in account {account_sid}")
            add_sims(session, account, fleet_row, batch, at=at, sids=sids, first=done)
        done += len(batch)
        progress(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--account", required=True, help="Account SID (the account must exist)")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--fleet", help="Fleet SID or unique name: the Sims are made active in it")
    args = parser.parse_args()
    engine = prepare_database(args.database_url)
    began = time.perf_counter()
    load_sims(
        engine,
        args.account,
        args.count,
        fleet=args.fleet,
        progress=lambda done: print(f"\r{done:,} Sims", end="", file=sys.stderr),
    )
    elapsed = time.perf_counter() - began
    print(f"\n{args.count:,} Sims in {elapsed:.1f} s ({args.count / elapsed:,.0f}/s)")
    engine.dispose()


if __name__ == "__main__":
    main()
