"""Benchmark: the console's Sims list with 100,000 Sims, over HTTP, on SQLite.

Loads the Sims with bulk inserts of the rows `register_sim` and an activation write (a
card, the Sim, its status history, its device), spread over two Fleets and three
statuses, then times pages of `GET /console/sims` signed in as the account: the first
page, a status filter, a Fleet filter, a name-prefix search, an ICCID-prefix search, a
deep page (keyset token in the middle of the list) and a deep filtered page. Prints
p50/p99 per shape. Target (issue "Web console"): every shape under 300 ms.

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
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from usage_records import ACCOUNT, TOKEN, free_port, start_server

from fleetsim.core.iccid import imei_for
from fleetsim.core.paging import Cursor
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.tables import Account, Device, Fleet, Sim, SimCard, SimStatusEvent
from fleetsim.db.uow import unit_of_work

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BATCH = 5000


def load(url: str, count: int, fleets: list[str]) -> float:
    """Insert `count` Sims in batches; the seconds it took."""
    engine = create_database_engine(url)
    sids = SidFactory(7)
    rng = random.Random(7)
    began = time.perf_counter()
    with unit_of_work(engine, write=True) as session:
        account_id = session.execute(select(Account.id).where(Account.sid == ACCOUNT)).scalar_one()
        fleet_ids = [
            session.execute(select(Fleet.id).where(Fleet.sid == sid)).scalar_one() for sid in fleets
        ]
        first_id = (session.execute(select(func.max(Sim.id))).scalar() or 0) + 1
    for start in range(0, count, BATCH):
        cards, sims, events, devices = [], [], [], []
        for number in range(start, min(start + BATCH, count)):
            sim_id = first_id + number
            iccid = f"8988307{number:012d}"
            roll = rng.random()
            status, fleet_id = (
                ("active", fleet_ids[0])
                if roll < 0.6
                else ("inactive", fleet_ids[1])
                if roll < 0.8
                else ("new", None)
            )
            cards.append({"iccid": iccid, "registration_code": "BENCH", "date_created": AT})
            sims.append(
                {
                    "id": sim_id,
                    "sid": sids.new(Prefix.SIM),
                    "account_id": account_id,
                    "iccid": iccid,
                    "unique_name": f"sensor-{number:06d}",
                    "status": status,
                    "fleet_id": fleet_id,
                    "date_created": AT,
                    "date_updated": AT,
                    "fleet_change_pending": False,
                }
            )
            events.append({"sim_id": sim_id, "status": "new", "fleet_id": None, "occurred_at": AT})
            if status != "new":
                events.append(
                    {"sim_id": sim_id, "status": status, "fleet_id": fleet_id, "occurred_at": AT}
                )
            devices.append(
                {
                    "sim_id": sim_id,
                    "imei": imei_for(sim_id),
                    "state": "detached",
                    "session_upload": 0,
                    "session_download": 0,
                    "data_blocked": False,
                }
            )
        with unit_of_work(engine, write=True) as session:
            session.execute(insert(SimCard), cards)
            session.execute(insert(Sim), sims)
            session.execute(insert(SimStatusEvent), events)
            session.execute(insert(Device), devices)
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
