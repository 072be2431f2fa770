"""Benchmark: fleetsim on PostgreSQL with 1 and 2 API processes, and its correctness under
that load.

Starts a throwaway PostgreSQL cluster (as tests/support/postgres.py does: initdb/pg_ctl, as
the `postgres` user when run as root; PostgreSQL is installed with apt-get when missing and
running as root), loads an account with Sims, and runs the deployment shape of the README:
API processes started with `fleetsim serve --workers N --no-worker` and two separate
`fleetsim worker` processes. For N = 1 and N = 2 it prints wrk's req/s and latency for a
read (fetch a Sim) and a write (create a Fleet); then, with 2 API processes under read
load, it checks that
  - concurrent creates of one Fleet UniqueName give exactly one 201 and 409s for the rest;
  - SMS Commands sent concurrently are each delivered once: one delivery job each, run
    once (attempts == 1), and one message each in the device's inbox.
Everything it started is stopped at the end.

    .venv/bin/python bench/scaleout.py [--quick]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
from harness import (
    ROOT,
    Server,
    WrkResult,
    describe_machine,
    ensure_wrk,
    free_port,
    lua_string,
    request_script,
    run_wrk,
    servers,
    start_server,
)
from load_sims import load_sims
from sqlalchemy import func, select

from fleetsim.app.setup import prepare_database
from fleetsim.core.clock import SystemClock
from fleetsim.db.secret_key import SECRET_KEY_ENV
from fleetsim.db.tables import DeviceMessage, Job, Sim, SmsCommand
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.accounts.service import ensure_account

sys.path.insert(0, str(ROOT))
from tests.support.postgres import PostgresCluster, find_pg_bin

ACCOUNT = "AC" + "be" * 16
TOKEN = "ca" * 16
AUTH = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
ENV = {"FLEETSIM_ACCOUNT_SID": ACCOUNT, "FLEETSIM_AUTH_TOKEN": TOKEN}
FLEETSIM = [sys.executable, "-m", "fleetsim"]


def ensure_postgres() -> Path:
    found = find_pg_bin()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("PostgreSQL is missing; installing it with apt-get", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
            env=env,
            check=True,
            capture_output=True,
        )
        found = find_pg_bin()
    if found is None:
        raise SystemExit(
            "This benchmark starts its own PostgreSQL: install the server binaries "
            "(Debian/Ubuntu: apt-get install postgresql; initdb and pg_ctl must be found)."
        )
    return found


def fleet_script(profile: str, tag: str) -> str:
    extra = f"""
counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, {lua_string(f"NetworkAccessProfile={profile}&UniqueName={tag}-")} .. counter)
end
"""  # noqa: E501
    return request_script(method="POST", auth=AUTH, extra=extra)


def start_api(url: str, workers: int, folder: Path) -> Server:
    port = free_port()
    command = [*FLEETSIM, "serve", "--port", str(port), "--database-url", url]
    command += ["--workers", str(workers), "--no-worker", "--no-udp"]
    return start_server(f"api{workers}", command, port, folder, env=ENV)


def start_job_worker(url: str, folder: Path, n: int) -> subprocess.Popen[bytes]:
    with (folder / f"worker-{n}.log").open("wb") as log:
        return subprocess.Popen(
            [*FLEETSIM, "worker", "--database-url", url], cwd=folder, stdout=log, stderr=log
        )


def line(name: str, result: WrkResult, base: WrkResult | None) -> None:
    scale = f"{result.rate / base.rate:5.2f}x of 1 process" if base else ""
    errors = f"  {result.errors} ERRORS" if result.errors else ""
    print(
        f"{name:36s} {result.rate:9,.0f} req/s  p50 {result.p50_ms:7.1f} ms  "
        f"p99 {result.p99_ms:7.1f} ms  {scale}{errors}",
        flush=True,
    )


def unique_names_check(base_url: str, profile: str, rounds: int, racers: int) -> str:
    """`racers` concurrent creates of one UniqueName, `rounds` times: one 201 each round."""
    bad = []

    def create(name: str) -> int:
        answer = httpx2.post(
            f"{base_url}/v1/Fleets",
            data={"UniqueName": name, "NetworkAccessProfile": profile},
            auth=(ACCOUNT, TOKEN),
            timeout=60,
        )
        if answer.status_code == 409:
            assert answer.json()["code"] == 20409, answer.text
        return answer.status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        for n in range(rounds):
            statuses = Counter(pool.map(create, [f"race-{n}"] * racers))
            if statuses != Counter({201: 1, 409: racers - 1}):
                bad.append(f"race-{n}: {dict(statuses)}")
    verdict = "OK" if not bad else "FAILED " + "; ".join(bad)
    return (
        f"unique names: {rounds} rounds of {racers} concurrent creates -> one 201 each: {verdict}"
    )


def single_execution_check(base_url: str, url: str, sims: list[str], count: int) -> str:
    """`count` SMS Commands sent concurrently; each delivered once, by one job run once."""

    def send(n: int) -> str:
        answer = httpx2.post(
            f"{base_url}/v1/SmsCommands",
            data={"Sim": sims[n % len(sims)], "Payload": f"once {n}"},
            auth=(ACCOUNT, TOKEN),
            timeout=60,
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["sid"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        sids = list(pool.map(send, range(count)))
    engine = prepare_database(url)
    deadline = time.monotonic() + 120
    try:
        while True:
            with unit_of_work(engine, write=False) as session:
                delivered = session.execute(
                    select(func.count())
                    .select_from(SmsCommand)
                    .where(SmsCommand.sid.in_(sids), SmsCommand.status == "delivered")
                ).scalar_one()
                if delivered == count or time.monotonic() > deadline:
                    messages = Counter(
                        session.execute(
                            select(DeviceMessage.command_sid).where(
                                DeviceMessage.command_sid.in_(sids)
                            )
                        ).scalars()
                    )
                    runs = Counter(
                        session.execute(
                            select(Job.attempts).where(
                                Job.kind == "sms_command.deliver", Job.subject.is_not(None)
                            )
                        ).scalars()
                    )
                    break
            time.sleep(0.5)
    finally:
        engine.dispose()
    twice = [sid for sid, n in messages.items() if n > 1]
    ok = delivered == count and len(messages) == count and not twice and set(runs) == {1}
    return (
        f"single execution: {count} SMS Commands, {delivered} delivered, "
        f"{len(messages)} in device inboxes, {len(twice)} delivered twice, delivery jobs by "
        f"attempts {dict(runs)}: {'OK' if ok else 'FAILED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer Sims, 3 s runs")
    parser.add_argument("--sims", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    sims = args.sims or (10_000 if args.quick else 100_000)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    wrk = ensure_wrk()
    pg_bin = ensure_postgres()
    # Every node of one PostgreSQL shares the key that seals auth tokens (this process, the
    # API processes and the workers inherit it).
    os.environ.setdefault(SECRET_KEY_ENV, secrets.token_hex(32))
    print(f"machine: {describe_machine()}")
    cluster = PostgresCluster.start(pg_bin)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="fleetsim-scaleout-") as tmp, servers() as up:
            folder = Path(tmp)
            url = cluster.url
            engine = prepare_database(url)
            with unit_of_work(engine, write=True) as session:
                ensure_account(session, sid=ACCOUNT, auth_token=TOKEN, clock=SystemClock())
            load_sims(engine, ACCOUNT, sims)
            with unit_of_work(engine, write=False) as session:
                sids = list(session.execute(select(Sim.sid).order_by(Sim.id)).scalars())
            engine.dispose()
            print(f"PostgreSQL {cluster.port}: {sims:,} Sims loaded; 2 `fleetsim worker`s")
            workers = [start_job_worker(url, folder, n) for n in (1, 2)]
            results: dict[int, dict[str, WrkResult]] = {}
            profile = ""
            for count in (1, 2):
                api = start_api(url, count, folder)
                up.append(api)
                if not profile:
                    profile = setup_account(api.url, sids[:20])
                fetch = f"{api.url}/v1/Sims/{sids[len(sids) // 2]}"
                read = request_script(auth=AUTH)
                run_wrk(wrk, fetch, read, seconds=1, connections=args.connections)
                results[count] = {
                    "fetch": run_wrk(
                        wrk, fetch, read, seconds=seconds, connections=args.connections
                    ),
                    "create": run_wrk(
                        wrk,
                        f"{api.url}/v1/Fleets",
                        fleet_script(profile, f"p{count}"),
                        seconds=seconds,
                        connections=args.connections,
                    ),
                }
                base = results[1] if count == 2 else None
                for case, label in (("fetch", "fetch a Sim"), ("create", "create a Fleet")):
                    line(
                        f"{label}, {count} API process{'es' if count > 1 else ''}",
                        results[count][case],
                        base[case] if base else None,
                    )
                if count == 2:
                    correctness(wrk, api, fetch, read, url, profile, sids[:20], args.quick)
                up.remove(api)
                api.stop()
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        cluster.stop()
    print(f"machine after the run: {describe_machine()}")


def correctness(
    wrk: str,
    api: Server,
    fetch: str,
    read: str,
    url: str,
    profile: str,
    active: list[str],
    quick: bool,
) -> None:
    """The checks, while wrk keeps both API processes busy with reads."""
    load = threading.Thread(
        target=run_wrk, args=(wrk, fetch, read), kwargs={"seconds": 30, "connections": 16}
    )
    load.start()
    try:
        print(unique_names_check(api.url, profile, rounds=5 if quick else 20, racers=16))
        print(single_execution_check(api.url, url, active, count=100 if quick else 500))
    finally:
        load.join()


def setup_account(base_url: str, sids: list[str]) -> str:
    """A profile and a Fleet; `sids` active in it with their devices attached."""
    with httpx2.Client(base_url=base_url, auth=(ACCOUNT, TOKEN), timeout=60) as client:
        networks = client.get("/v1/Networks", params={"IsoCountry": "US", "PageSize": 1})
        network = networks.json()["networks"][0]["sid"]
        profile = client.post(
            "/v1/NetworkAccessProfiles", data={"UniqueName": "bench", "Networks": network}
        ).json()["sid"]
        client.post("/v1/Fleets", data={"UniqueName": "bench", "NetworkAccessProfile": profile})
        for sid in sids:
            client.post(f"/v1/Sims/{sid}", data={"Fleet": "bench", "Status": "active"})
        deadline = time.monotonic() + 60
        while not all(client.get(f"/v1/Sims/{sid}").json()["status"] == "active" for sid in sids):
            if time.monotonic() > deadline:
                raise SystemExit("the Sims did not become active (are the workers running?)")
            time.sleep(0.5)
        for sid in sids:
            client.post(f"/devices/{sid}/attach", data={"Network": network}).raise_for_status()
        return str(profile)


if __name__ == "__main__":
    main()
