"""Benchmark: the console's Sims list with 100,000 Sims, over HTTP, on SQLite.

Loads the Sims through the services, in batches (as `fleetsim simulate` makes its Sims),
spread over two Fleets and three statuses, then times pages of `GET /console/sims` signed
in as the account: the first page, a status filter, a Fleet filter, a name-prefix search,
an ICCID-prefix search, a deep page (keyset token in the middle of the list) and a deep
filtered page. Prints p50/p99 per shape. Target (issue "Web console"): every shape under 300 ms.

    .venv/bin/python bench/console_sims.py [--sims 100000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from sqlalchemy import select
from sqlalchemy.orm import joinedload

sys.path.insert(0, str(Path(__file__).resolve().parent))

from usage_records import ACCOUNT, TOKEN, free_port, start_server

from fleetsim.core.clock import FrozenClock
from fleetsim.core.paging import Cursor
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.store import Tx
from fleetsim.db.tables import Sim
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import Card
from fleetsim.resources.accounts.service import fetch_account
from fleetsim.resources.fleets.service import find_fleet
from fleetsim.resources.sims.lifecycle import update_now
from fleetsim.resources.sims.service import SimChanges, update_sim
from fleetsim.simulation.generator import add_sims

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BATCH = 5000


def load(url: str, count: int, fleets: list[str]) -> float:
    """Register `count` Sims through the services in batches (60% active in the first
    Fleet, 20% inactive in the second, 20% new; each named); the seconds it took."""
    engine = create_database_engine(url)
    sids = SidFactory(7)
    rng = random.Random(7)
    began = time.perf_counter()
    for start in range(0, count, BATCH):
        numbers = range(start, min(start + BATCH, count))
        # ICCIDs in order, so that an ICCID prefix matches a known number of Sims.
        cards = [Card(f"8988307{number:012d}", "BENCH00000") for number in numbers]
        with unit_of_work(engine, write=True) as session:
            account = fetch_account(session, ACCOUNT)
            field, spares = (find_fleet(session, account, sid) for sid in fleets)
            assert field is not None
            assert spares is not None
            targets = add_sims(session, account, None, cards, at=AT, sids=sids)
            tx, clock = Tx.of(session), FrozenClock(AT)
            for number, target in zip(numbers, targets, strict=True):
                named = SimChanges(unique_name=f"sensor-{number:06d}")
                update_sim(tx, account, target.sid, changes=named, clock=clock)
            # Read after the names: each write through `tx` expires what the session holds.
            sims = session.scalars(
                select(Sim)
                .where(Sim.id.in_([t.sim_id for t in targets]))
                .order_by(Sim.id)
                .options(joinedload(Sim.fleet))
            ).all()
            active, inactive = [], []
            for sim in sims:
                roll = rng.random()
                if roll < 0.6:
                    active.append(sim)
                elif roll < 0.8:
                    inactive.append(sim)
            update_now(session, active, status="active", fleet=field, now=AT, sids=sids)
            update_now(session, inactive, status="inactive", fleet=spares, now=AT, sids=sids)
    engine.dispose()
    return time.perf_counter() - began


def timed(client: httpx2.Client, params: dict[str, str], repeat: int) -> tuple[float, float, int]:
    samples, rows = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get("/console/sims", params=params)
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
        rows = response.text.count('name="sim" value="HS')
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return statistics.median(samples), p99, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleetsim-bench-") as folder:
        cwd = Path(folder)
        url = f"sqlite:///{cwd / 'bench.db'}"
        port = free_port()
        server = start_server(url, port, cwd)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx2.Client(base_url=base, auth=(ACCOUNT, TOKEN), timeout=60) as api:
                network = api.get("/v1/Networks", params={"IsoCountry": "US"}).json()
                profile = api.post(
                    "/v1/NetworkAccessProfiles",
                    data={"Networks": network["networks"][0]["sid"]},
                ).json()["sid"]
                fleets = [
                    api.post(
                        "/v1/Fleets", data={"NetworkAccessProfile": profile, "UniqueName": name}
                    ).json()["sid"]
                    for name in ("field", "spares")
                ]
            seconds = load(url, args.sims, fleets)
            print(f"load: {args.sims:,} Sims in {seconds:.1f} s ({args.sims / seconds:,.0f}/s)")
            with httpx2.Client(base_url=base, timeout=60) as console:
                signed_in = console.post(
                    "/console/sign-in", data={"username": ACCOUNT, "password": TOKEN}
                )
                assert signed_in.status_code == 303, signed_in.text
                engine = create_database_engine(url)
                with engine.connect() as connection:
                    middle = connection.execute(
                        select(Sim.id).order_by(Sim.id).offset(args.sims // 2).limit(1)
                    ).scalar_one()
                engine.dispose()
                deep = Cursor("after", (middle,)).encode()
                shapes = {
                    "first page": {},
                    "status=inactive": {"status": "inactive"},
                    "fleet=spares": {"fleet": "spares"},
                    "search name prefix sensor-0999": {"q": "sensor-0999"},
                    "search ICCID prefix": {"q": "89883070000000123"},
                    "search broad name prefix sensor-": {"q": "sensor-"},
                    "search broad ICCID prefix 8988": {"q": "8988"},
                    "deep page (middle)": {"page": deep},
                    "deep page, status=active": {"status": "active", "page": deep},
                }
                for name, params in shapes.items():
                    p50, p99, rows = timed(console, params, args.repeat)
                    print(f"{name:34s} {rows:3d} rows  p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
