"""Benchmark: the app's own time per request, without a server or a network in between.

Calls fleetsim's ASGI app directly, one request after another on one event loop, on a
SQLite file holding the benchmark's account (bench/load_sims.py), and prints the
microseconds each case takes; with --profile, the functions that take it (cProfile).
It is the quick loop for work on the request path: bench/api.py gives the figures that
count, through uvicorn and wrk.

    .venv/bin/python bench/inprocess.py
    .venv/bin/python bench/inprocess.py --cases fetch,list --profile 25
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import itertools
import json
import os
import pstats
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvloop
from load_sims import load_sims
from sqlalchemy import select
from wrk_scripts import ACCOUNT, AUTH, TOKEN

from fleetsim.app.asgi import create_app
from fleetsim.app.setup import build_runtime, prepare_database
from fleetsim.core.clock import SystemClock
from fleetsim.db.secret_key import SECRET_KEY_ENV
from fleetsim.db.tables import Sim
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import generate_cards, import_cards
from fleetsim.resources.accounts.service import ensure_account

Request = tuple[str, str, bytes]  # method, path?query, form body


async def call(app: Any, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request through the whole app, middleware included."""
    path, _, query = target.partition("?")
    headers = [
        (b"host", b"bench.local"),
        (b"authorization", AUTH.encode()),
    ]
    if method == "POST":
        headers += [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("bench.local", 80),
        "app": app,
    }
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def cases(sids: list[str], cards: list[str], profile: str) -> dict[str, Callable[[int], Request]]:
    fetched = sids[len(sids) // 2]
    return {
        "fetch": lambda n: ("GET", f"/v1/Sims/{fetched}", b""),
        "list": lambda n: ("GET", "/v1/Sims?PageSize=50", b""),
        "404": lambda n: ("GET", "/v1/Sims/HS" + "0" * 32, b""),
        "400": lambda n: ("POST", "/v1/Fleets", b""),
        "fleet": lambda n: (
            "POST",
            "/v1/Fleets",
            f"NetworkAccessProfile={profile}&UniqueName=f{n}".encode(),
        ),
        "register": lambda n: ("POST", "/v1/Sims", cards[n % len(cards)].encode()),
        "fleet_update": lambda n: (
            "POST",
            "/v1/Fleets/bench",
            f"SmsCommandsUrl=http://127.0.0.1:9/{n}".encode(),
        ),
        "sms": lambda n: ("POST", "/v1/SmsCommands", f"Sim={sids[n % 20]}&Payload=x".encode()),
        "ip": lambda n: (
            "POST",
            "/v1/IpCommands",
            f"Sim={sids[n % 20]}&Payload=x&DevicePort=9000".encode(),
        ),
        "update": lambda n: (
            "POST",
            f"/v1/Sims/{sids[20 + n % (len(sids) - 20)]}",
            b"Fleet=bench&Status=ready",
        ),
    }


async def prepare_app(
    folder: Path, sims: int, url: str | None = None
) -> tuple[Any, list[str], list[str], str]:
    url = url or f"sqlite:///{folder / 'bench.db'}"
    engine = prepare_database(url)
    with unit_of_work(engine, write=True) as session:
        ensure_account(session, sid=ACCOUNT, auth_token=TOKEN, clock=SystemClock())
        cards = list(generate_cards(40_000, random.Random(7)))
        import_cards(session, cards, clock=SystemClock())
    load_sims(engine, ACCOUNT, sims)
    with unit_of_work(engine, write=False) as session:
        sids = list(session.scalars(select(Sim.sid).order_by(Sim.id)))
    app = create_app(build_runtime(engine))
    network = await call(app, "GET", "/v1/Networks?IsoCountry=US&PageSize=1")
    network_sid = json.loads(network[1])["networks"][0]["sid"]
    _, body = await call(
        app,
        "POST",
        "/v1/NetworkAccessProfiles",
        f"UniqueName=bench&Networks={network_sid}".encode(),
    )
    profile = json.loads(body)["sid"]
    await call(
        app, "POST", "/v1/Fleets", f"UniqueName=bench&NetworkAccessProfile={profile}".encode()
    )
    for sid in sids[:20]:
        await call(app, "POST", f"/v1/Sims/{sid}", b"Fleet=bench&Status=active")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the status changes complete as the policy says
        app.state.runtime.worker.run_until_idle()
        statuses = [await call(app, "GET", f"/v1/Sims/{sid}") for sid in sids[:20]]
        if all(b'"status":"active"' in body for _, body in statuses):
            break
        await asyncio.sleep(0.5)
    registration = [f"Iccid={c.iccid}&RegistrationCode={c.registration_code}" for c in cards]
    return app, sids, registration, profile


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="fleetsim-inprocess-") as tmp, database(args) as url:
        app, sids, cards, profile = await prepare_app(Path(tmp), args.sims, url)
        made = cases(sids, cards, profile)
        # As a server runs it: the credentials kept in memory, the collector frozen.
        async with app.router.lifespan_context(app):
            for name in args.cases.split(","):
                make = made[name]
                # Numbered from 0 in each case: the status updates take a different Sim each,
                # and every case before them would otherwise use up the account's Sims.
                counter = itertools.count()
                for _ in range(50):  # warm-up
                    await call(app, *make(next(counter)))
                best = float("inf")  # CPU time: other processes on the machine count less
                statuses: dict[int, int] = {}
                profiler = cProfile.Profile() if args.profile else None
                for _ in range(args.repeat):  # the best of a few runs: the machine is shared
                    requests = [make(next(counter)) for _ in range(args.requests)]
                    began = time.process_time()
                    if profiler:
                        profiler.enable()
                    await run_all(app, requests, args.concurrency, statuses)
                    if profiler:
                        profiler.disable()
                    best = min(best, (time.process_time() - began) / len(requests))
                print(f"{name:14s} {best * 1e6:8.1f} µs  {statuses}", flush=True)
                if profiler:
                    stats = pstats.Stats(profiler, stream=sys.stdout)
                    stats.sort_stats(args.sort).print_stats(args.profile)


async def run_all(
    app: Any, requests: list[Request], concurrency: int, statuses: dict[int, int]
) -> None:
    """`requests` through `app`, `concurrency` at a time, as clients that each send their
    next request when the last is answered; the answers' statuses counted in `statuses`."""
    pending = iter(requests)

    async def client() -> None:
        for request in pending:
            status, _ = await call(app, *request)
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(client() for _ in range(concurrency)))


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str | None]:
    """A throwaway PostgreSQL cluster's URL with --postgres; else None (a SQLite file)."""
    if not args.postgres:
        yield None
        return
    from scaleout import ensure_postgres

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.postgres import PostgresCluster

    os.environ.setdefault(SECRET_KEY_ENV, secrets.token_hex(32))
    cluster = PostgresCluster.start(ensure_postgres())
    try:
        yield cluster.socket_url  # as bench/api.py reaches it
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=6_000)  # the updates use 5,050
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--cases", default="fetch,list,404,400,fleet,register,fleet_update,sms,ip,update"
    )
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway local cluster")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="requests in flight at once (1: in turn)"
    )
    parser.add_argument("--sort", default="tottime", help="pstats order: tottime, cumulative")
    # The loop `fleetsim serve` runs on (uvicorn's choice when uvloop is installed).
    uvloop.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
