"""Benchmark: fleetsim's API on SQLite, one server process, against a bare Starlette app.

Loads an account with 1,000,000 Sims (bench/load_sims.py), starts `fleetsim serve` and the
bare reference app (bench/bare_app.py), drives each case with wrk, the two servers in turn
for a few rounds, and prints one line per case: of the median round, fleetsim's
requests/s, the bare app's for the same kind of request measured just before and just
after (their mean), the ratio, and fleetsim's p50/p99 latency; then every round's ratio,
in the order the rounds ran. Then the deep page against the first one, and the server's
memory. Last, fetch a Sim and create a Fleet on a throwaway PostgreSQL cluster (unless
--no-postgres), each in turn with the same case on SQLite, whose server stays up for it.
Every server is stopped at the end.

Targets (SQLite, one worker): fetch >= 0.40x the bare app; a page of 50 Sims >= 0.12x;
creates and updates >= 0.25x; the 404 of an unknown Sim and the 400 of a bad create >=
0.4x; SMS Commands while the worker delivers them >= 0.15x; page 1,000 <= 1.2x the
latency of page 1; RSS <= 300 MB with 1,000,000 Sims; on PostgreSQL, fetch and create a
Fleet >= 0.5x SQLite.

The SMS Command and status update cases measure what a request does: the write and its job
row. Their lifecycles are held (the `manual` policy) during those runs, so that the
server's job worker is not also running the jobs they schedule; each is then run again
with the worker carrying the jobs out, printed without a target, for the whole picture.

    .venv/bin/python bench/api.py            # 1,000,000 Sims, 5 s per run
    .venv/bin/python bench/api.py --quick    # 100,000 Sims, 2 s per run: about 10 minutes
    .venv/bin/python bench/api.py --quick --cases fetch,fleet --profile /tmp/profiles
        # only some cases; py-spy records fleetsim during each measured run (SVG per case)
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
from bench_account import OPERATOR_TOKEN, activate, held, prepare, profile_network
from comparison import Bench, Request
from harness import (
    BENCH,
    Server,
    WrkResult,
    describe_machine,
    ensure_wrk,
    free_port,
    recorded_in_readme,
    request_script,
    servers,
    start_server,
    wait_for_jobs,
)
from sqlalchemy import Engine, select
from wrk_scripts import (
    ACCOUNT,
    AUTH,
    TOKEN,
    create_fleet_script,
    ip_script,
    numbered_script,
    register_script,
    sms_script,
    update_script,
)

from fleetsim.core.paging import Cursor
from fleetsim.db.secret_key import SECRET_KEY_ENV
from fleetsim.db.tables import Sim
from fleetsim.db.uow import unit_of_work

FLEETSIM = [sys.executable, "-m", "fleetsim"]
ACTIVE_SIMS = 20  # Sims made active for SMS Commands
PAGE = 1000
CASES = (
    "fetch",
    "list",
    "pages",
    "errors",
    "fleet",
    "nap",
    "register",
    "fleet_update",
    "sms",
    "ip",
    "update",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 Sims, 2 s runs")
    parser.add_argument("--sims", type=int, default=None, help="Sims in the account")
    parser.add_argument("--seconds", type=float, default=None, help="each measured run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=3, help="measured runs of each side, taken in turn"
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated, of: {', '.join(CASES)}"
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="folder for py-spy flame graphs, one per case"
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="skip the PostgreSQL cases (need initdb)"
    )
    args = parser.parse_args()
    args.cases = set(args.cases.split(","))
    if not args.cases <= set(CASES):
        parser.error(f"--cases: unknown {', '.join(sorted(args.cases - set(CASES)))}")
    args.sims = args.sims or (100_000 if args.quick else 1_000_000)
    args.seconds = args.seconds or (2.0 if args.quick else 5.0)
    args.warmup = 1.0
    pages = args.sims // PAGE
    if pages < 2:
        parser.error("--sims must be at least 2000")
    wrk = ensure_wrk()
    arguments = " ".join(sys.argv[1:])
    section = "bench/api.py --quick" if args.quick else "bench/api.py"
    with recorded_in_readme(section, f".venv/bin/python bench/api.py {arguments}".strip()):
        measure(args, wrk, pages)


def measure(args: argparse.Namespace, wrk: str, pages: int) -> None:
    print(f"machine: {describe_machine()}")
    with tempfile.TemporaryDirectory(prefix="fleetsim-bench-") as tmp, servers() as started:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        engine = prepare(url, args.sims, folder / "cards.txt")
        with unit_of_work(engine, write=False) as session:
            ids = [
                (row.id, row.sid)
                for row in session.execute(select(Sim.id, Sim.sid).order_by(Sim.id))
            ]
        engine.dispose()
        port = free_port()
        fleetsim = start_server(
            "fleetsim",
            # No per-request access log (--log-level warning): the bare app writes none.
            [
                *FLEETSIM,
                *("serve", "--port", str(port), "--database-url", url, "--no-udp"),
                *("--log-level", "warning"),
            ],
            port,
            folder,
            env={
                "FLEETSIM_ACCOUNT_SID": ACCOUNT,
                "FLEETSIM_AUTH_TOKEN": TOKEN,
                "FLEETSIM_OPERATOR_TOKEN": OPERATOR_TOKEN,
            },
        )
        started.append(fleetsim)
        bare_port = free_port()
        bare = start_server(
            "bare",
            [sys.executable, str(BENCH / "bare_app.py"), "--port", str(bare_port)],
            bare_port,
            folder,
        )
        started.append(bare)
        bench = Bench(args, wrk, folder)
        requests = run(bench, fleetsim, bare, ids, pages)
        if not args.no_postgres:
            started.remove(bare)
            bare.stop()  # the PostgreSQL cases compare with fleetsim on SQLite
            on_postgres(bench, fleetsim, requests)
    print(f"machine after the run: {describe_machine()}")


def on_postgres(bench: Bench, sqlite: Server, requests: dict[str, Request]) -> None:
    """Fetch a Sim and create Fleets on PostgreSQL (a throwaway local cluster, one API
    process with its job worker), against fleetsim on SQLite (`requests`: what each case
    asks of it) in turn, as the other cases are against the bare app."""
    from scaleout import ensure_postgres

    sys.path.insert(0, str(BENCH.parent))
    from tests.support.postgres import PostgresCluster

    args = bench.args
    # Every node of one PostgreSQL shares the key that seals auth tokens (this process and
    # the server it starts inherit it).
    os.environ.setdefault(SECRET_KEY_ENV, secrets.token_hex(32))
    cluster = PostgresCluster.start(ensure_postgres())
    url = cluster.socket_url  # as a node on the database's machine reaches it
    try:
        engine = prepare(url, args.sims, bench.folder / "pg-cards.txt")
        with unit_of_work(engine, write=False) as session:
            sids = list(session.execute(select(Sim.sid).order_by(Sim.id)).scalars())
        settle_after_load(engine)
        engine.dispose()
        port = free_port()
        command = [*FLEETSIM, "serve", "--port", str(port), "--database-url", url]
        command += ["--no-udp", "--log-level", "warning"]
        env = {"FLEETSIM_ACCOUNT_SID": ACCOUNT, "FLEETSIM_AUTH_TOKEN": TOKEN}
        server = start_server("fleetsim-pg", command, port, bench.folder, env=env)
        try:
            with httpx2.Client(base_url=server.url, auth=(ACCOUNT, TOKEN), timeout=60) as client:
                profile = activate(client, sids[:ACTIVE_SIMS])
            wait_for_jobs(server.url)  # the activations' own, not the cases'
            wait_for_jobs(sqlite.url)  # the deliveries of the SQLite cases
            print(
                f"\nPostgreSQL (local cluster through its Unix socket, one API process and its"
                f" worker), {args.sims:,} Sims, and fleetsim on SQLite in turn\n"
            )
            print(
                f"{'case':34s} {'Postgres':>9s} {'SQLite':>9s} {'ratio':>7s} {'p50 ms':>8s}"
                f" {'p99 ms':>8s} {'rounds':>14s}"
            )
            print(f"{'':34s} {'req/s':>9s} {'req/s':>9s}")
            fetched = f"/v1/Sims/{sids[len(sids) // 2]}"
            tags = (f"pg{n}" for n in itertools.count())  # a new name for every run's Fleets
            cases = {
                "fetch a Sim": (fetched, lambda: request_script(auth=AUTH)),
                "create a Fleet": ("/v1/Fleets", lambda: create_fleet_script(profile, next(tags))),
            }
            for name, (path, script) in cases.items():
                on_sqlite = requests[name]
                label = f"{name} (PostgreSQL)"
                bench.compare(label, server, sqlite, path, script, 0.5, bare_request=on_sqlite)
        finally:
            server.stop()
    finally:
        cluster.stop()


def settle_after_load(engine: Engine) -> None:
    """What PostgreSQL's documentation asks after a bulk load: fresh statistics
    (ANALYZE), and the load's pages written out (CHECKPOINT), so that the autovacuum and
    the checkpointer do not do it during the runs."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
        connection.exec_driver_sql("CHECKPOINT")


def run(
    bench: Bench, fleetsim: Server, bare: Server, ids: list[tuple[int, str]], pages: int
) -> dict[str, Request]:
    """The SQLite cases; what the PostgreSQL cases are to ask of this server, by case."""
    args = bench.args
    with httpx2.Client(base_url=fleetsim.url, auth=(ACCOUNT, TOKEN), timeout=60) as client:
        profile = activate(client, [sid for _, sid in ids[:ACTIVE_SIMS]])
    # Updates take `new` Sims from the end of the account, a different one each request.
    sids_file = bench.folder / "new-sims.txt"
    sids_file.write_text("\n".join(sid for _, sid in reversed(ids[ACTIVE_SIMS:])) + "\n")
    fetched = ids[len(ids) // 2][1]
    deep_after = ids[(pages - 1) * PAGE - 1][0]
    deep_token = Cursor("after", (deep_after,)).encode()
    first = "/v1/Sims?PageSize=1000"
    deep = f"/v1/Sims?PageSize=1000&Page={pages - 1}&PageToken={deep_token}"

    print(
        f"{args.sims:,} Sims in the account; wrk: 1 thread, {args.connections} connections, "
        f"{args.seconds:g} s per run after {args.warmup:g} s of warm-up; {args.rounds} rounds "
        "of each case, the bare app and fleetsim in turn: the median round, and every round's "
        "ratio in the order the rounds ran\n"
    )
    print(
        f"{'case':34s} {'fleetsim':>9s} {'bare':>9s} {'ratio':>7s} {'p50 ms':>8s} {'p99 ms':>8s}"
        f" {'rounds':>14s}"
    )
    print(f"{'':34s} {'req/s':>9s} {'req/s':>9s}")

    def get() -> str:
        return request_script(auth=AUTH)

    if "fetch" in args.cases:
        bench.compare("fetch a Sim", fleetsim, bare, f"/v1/Sims/{fetched}", get, 0.40)
        protocol_reference(bench, bare, f"/v1/Sims/{fetched}", get)
    if "list" in args.cases:
        bench.compare("list Sims PageSize=50", fleetsim, bare, "/v1/Sims?PageSize=50", get, 0.12)
    if "pages" in args.cases:
        deep_page(bench, fleetsim, bare, pages, first, deep)
    if "errors" in args.cases:
        unknown = "/v1/Sims/HS" + "0" * 32
        bench.compare("fetch an unknown Sim (404)", fleetsim, bare, unknown, get, 0.4, refused=True)
        bad = lambda: request_script(method="POST", auth=AUTH)  # noqa: E731 - no body: 400
        name = "create a Fleet, no profile (400)"
        bench.compare(name, fleetsim, bare, "/v1/Fleets", bad, 0.4, refused=True)
    tags = (f"bench{n}" for n in itertools.count())
    if "fleet" in args.cases:
        bench.compare(
            "create a Fleet",
            fleetsim,
            bare,
            "/v1/Fleets",
            lambda: create_fleet_script(profile, next(tags)),
            0.25,
        )
    if "nap" in args.cases:
        network = profile_network(fleetsim)
        bench.compare(
            "create a Network Access Profile",
            fleetsim,
            bare,
            "/v1/NetworkAccessProfiles",
            lambda: numbered_script(f"Networks={network}&UniqueName={next(tags)}-"),
            0.25,
        )
    if "register" in args.cases:
        registered = [0]

        def register_ran(result: WrkResult) -> None:
            registered[0] += result.requests + 2 * args.connections

        cards_file = bench.folder / "cards.txt"
        bench.compare(
            "register a Sim",
            fleetsim,
            bare,
            "/v1/Sims",
            lambda: register_script(cards_file, registered[0]),
            0.25,
            register_ran,
        )
    if "fleet_update" in args.cases:
        bench.compare(
            "update a Fleet",
            fleetsim,
            bare,
            "/v1/Fleets/bench",
            lambda: numbered_script(f"SmsCommandsUrl=http://127.0.0.1:9/{next(tags)}-"),
            0.25,
        )
    active = [sid for _, sid in ids[:ACTIVE_SIMS]]
    # Lua starts afresh for every wrk run: each run starts after the Sims already updated
    # (wrk's count leaves out the requests in flight at the end, hence the margin).
    updated = [0]

    def update_ran(result: WrkResult) -> None:
        updated[0] += result.requests + 2 * args.connections

    def sms() -> str:
        return sms_script(active)

    def updates() -> str:
        return update_script(sids_file, updated[0])

    # The runs with the worker carrying the jobs out come last, the one that leaves the
    # longest backlog (SMS deliveries) at the very end.
    if "sms" in args.cases:
        with held(fleetsim, "sms_command"):
            bench.compare("create an SMS Command", fleetsim, bare, "/v1/SmsCommands", sms, 0.25)
    if "ip" in args.cases:
        with held(fleetsim, "ip_command"):
            ips = lambda: ip_script(active)  # noqa: E731
            bench.compare("create an IP Command", fleetsim, bare, "/v1/IpCommands", ips, 0.25)
    if "update" in args.cases:
        with held(fleetsim, "sim"):
            name = "update a Sim's Status (202)"
            bench.compare(name, fleetsim, bare, "/v1/Sims", updates, 0.25, update_ran)
        name = "  ... while the worker completes"
        bench.compare(name, fleetsim, bare, "/v1/Sims", updates, None, update_ran)
    if "sms" in args.cases:
        due, waited = wait_for_jobs(fleetsim.url)
        if due:
            print(f"  (the worker first carried out the {due:,} jobs due, in {waited:.0f} s)")
        name = "create an SMS Command, delivering"
        bench.compare(name, fleetsim, bare, "/v1/SmsCommands", sms, 0.15)
    rss, peak = fleetsim.rss_mb()
    print(f"\nmemory at the end: RSS {rss:.0f} MB (peak {peak:.0f} MB)")
    again = (f"sqlite{n}" for n in itertools.count())
    return {
        "fetch a Sim": (f"/v1/Sims/{fetched}", get),
        "create a Fleet": ("/v1/Fleets", lambda: create_fleet_script(profile, next(again))),
    }


def protocol_reference(bench: Bench, bare: Server, path: str, script: Callable[[], str]) -> None:
    """The bare app on fleetsim's HTTP protocol (a response's head and body in one write,
    where plain uvicorn makes two): the share of fleetsim's ratios that the protocol
    accounts for, since the bare app of every other line runs on plain uvicorn."""
    port = free_port()
    command = [sys.executable, str(BENCH / "bare_app.py"), "--port", str(port)]
    server = start_server("bare-protocol", [*command, "--fleetsim-protocol"], port, bench.folder)
    try:
        name = "  bare app on fleetsim's protocol"
        bench.compare(name, server, bare, path, script, None)
    finally:
        server.stop()
    fetch = bench.ratios["fetch a Sim"] / bench.ratios[name]
    print(f"  fetch a Sim against the bare app on fleetsim's protocol: {fetch:.2f}x")


def alternating_latency(server: Server, first: str, other: str, rounds: int) -> tuple[float, float]:
    """Median latency in ms of `first` and of `other`, asked for in turn by one client."""
    times: dict[str, list[float]] = {first: [], other: []}
    with httpx2.Client(base_url=server.url, auth=(ACCOUNT, TOKEN), timeout=60) as client:
        for _ in range(rounds):
            for path in (first, other):
                began = time.perf_counter()
                client.get(path).raise_for_status()
                times[path].append((time.perf_counter() - began) * 1000)
    return statistics.median(times[first]), statistics.median(times[other])


def deep_page(
    bench: Bench, fleetsim: Server, bare: Server, pages: int, first: str, deep: str
) -> None:
    """The last page of the account against the first, and the memory after reading them."""
    args = bench.args

    def get() -> str:
        return request_script(auth=AUTH)

    # A page of 1,000 is ~500 KB of JSON: a few clients at a time, as real ones would be.
    bench.connections = 4
    page_1 = bench.compare("list Sims PageSize=1000 (page 1)", fleetsim, bare, first, get, None)
    page_n = bench.compare(
        f"list Sims page {pages:,} of {pages:,}", fleetsim, bare, deep, get, None
    )
    bench.connections = args.connections
    # The verdict comes from the two pages asked for in turn, one request at a time: runs
    # of wrk 25 s apart put page 1,000 at 0.7x to 1.5x page 1 as the machine's speed
    # drifted, while in-process, in turn, the two took the same 18 ms.
    first_ms, deep_ms = alternating_latency(fleetsim, first, deep, rounds=40)
    rss, peak = fleetsim.rss_mb()
    growth = deep_ms / first_ms if first_ms else 0.0
    print(
        f"\ndeep page: page {pages:,} vs page 1, asked for in turn (40 each, one at a time): "
        f"median {deep_ms:.1f} ms vs {first_ms:.1f} ms = {growth:.2f}x (target <= 1.2x: "
        f"{'met' if growth <= 1.2 else 'NOT MET'}); under wrk, p50 {page_n.p50_ms:.1f} ms vs "
        f"{page_1.p50_ms:.1f} ms"
    )
    print(
        f"memory: fleetsim serve holding {args.sims:,} Sims, after the list and fetch runs: "
        f"RSS {rss:.0f} MB (peak {peak:.0f} MB; target <= 300 MB: "
        f"{'met' if peak <= 300 else 'NOT MET'})\n"
    )


if __name__ == "__main__":
    main()
