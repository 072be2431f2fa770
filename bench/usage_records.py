"""Benchmark: load Sims x days of hourly usage with `fleetsim simulate`, then time
`GET /v1/UsageRecords` shapes over HTTP against a live `fleetsim serve` on SQLite.

Prints the load rate (usage samples, i.e. Sim-hours, written with their rollups per
second: by the wall clock, and per CPU second of the loading process, which is what a quiet
core gives when the machine is shared) and p50/p99 latency per query shape. Targets (issue
"Usage and billing", SQLite, 2 cores): load >= 50,000 samples/s; Group=fleet&Granularity=day
over 31 days p50 <= 50 ms; Sim=...&Granularity=hour over 31 days p50 <= 20 ms; first page
of Group=sim&Granularity=all p50 <= 100 ms. Other shapes are timed for information.

    .venv/bin/python bench/usage_records.py [--sims 10000] [--days 31] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ACCOUNT = "AC" + "be" * 16
TOKEN = "ca" * 16
START = "2026-01-01T00:00:00Z"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fleetsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetsim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "FLEETSIM_ACCOUNT_SID": ACCOUNT, "FLEETSIM_AUTH_TOKEN": TOKEN},
    )


def start_server(url: str, port: int, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "FLEETSIM_ACCOUNT_SID": ACCOUNT, "FLEETSIM_AUTH_TOKEN": TOKEN}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fleetsim",
            "serve",
            "--port",
            str(port),
            "--database-url",
            url,
            "--no-udp",
            # No job worker: it would roll the loaded Sims' billing periods over month by
            # month while the loader writes, both waiting on SQLite's one write lock (the
            # load ran at 23,500 samples/s with it, 51,500 without; queries need no jobs).
            "--no-worker",
            "--log-level",
            "warning",
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx2.TransportError:
            pass
        try:
            process.wait(timeout=0.1)
            raise SystemExit("fleetsim serve exited; run it by hand to see why")
        except subprocess.TimeoutExpired:
            pass
    raise SystemExit("fleetsim serve did not start within 60 s")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def timed(client: httpx2.Client, params: dict[str, str], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get("/v1/UsageRecords", params=params)
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return statistics.median(samples), p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    keep = os.environ.get("FLEETSIM_BENCH_KEEP")  # a folder: keep the database there
    with tempfile.TemporaryDirectory(prefix="fleetsim-bench-") as folder:
        folder = keep or folder
        cwd = Path(folder)
        url = f"sqlite:///{cwd / 'bench.db'}"
        port = free_port()
        server = start_server(url, port, cwd)
        try:
            with httpx2.Client(
                base_url=f"http://127.0.0.1:{port}", auth=(ACCOUNT, TOKEN), timeout=300
            ) as client:
                networks = client.get("/v1/Networks", params={"IsoCountry": "US"}).json()
                sids = [n["sid"] for n in networks["networks"][:3]]
                profile = client.post("/v1/NetworkAccessProfiles", data={"Networks": sids})
                fleet = client.post(
                    "/v1/Fleets",
                    data={"NetworkAccessProfile": profile.json()["sid"], "UniqueName": "bench"},
                ).json()["sid"]
                load_before = _load()
                began = time.perf_counter()
                run = fleetsim(
                    "simulate",
                    "--database-url",
                    url,
                    "--account",
                    ACCOUNT,
                    "--fleet",
                    fleet,
                    "--sims",
                    str(args.sims),
                    "--duration",
                    f"{args.days}d",
                    "--start",
                    START,
                    "--seed",
                    "1",
                    cwd=cwd,
                )
                elapsed = time.perf_counter() - began
                rate = re.search(r"Samples/s:\s+([\d,]+)", run.stdout)
                cpu = re.search(r"CPU:\s+([\d.]+)s \(([\d,]+) Sim-hours", run.stdout)
                setup = re.search(r"\(([\d.]+)s creating Sims\)", run.stdout)
                print(f"machine: {os.cpu_count()} CPUs, load average {load_before} before the load")
                print(
                    f"load: {args.sims:,} Sims x {args.days} days = "
                    f"{args.sims * 24 * args.days:,} samples in {elapsed:.1f} s "
                    f"({setup.group(1) if setup else '?'} s creating the Sims)"
                )
                print(
                    f"load rate: {rate.group(1) if rate else '?'} samples/s (wall clock), "
                    f"{cpu.group(2) if cpu else '?'} samples per CPU second "
                    f"({cpu.group(1) if cpu else '?'} CPU s)   target >= 50,000"
                )
                sim = client.get("/v1/Sims", params={"PageSize": 1}).json()["sims"][0]["sid"]
                end = (
                    f"2026-01-{1 + args.days:02d}T00:00:00Z"
                    if args.days < 31
                    else "2026-02-01T00:00:00Z"
                )
                window = {"StartTime": START, "EndTime": end}
                shapes: list[tuple[str, dict[str, str], str]] = [
                    ("Group=fleet&Granularity=day", {"Group": "fleet", "Granularity": "day"}, "50"),
                    ("Sim=..&Granularity=hour", {"Sim": sim, "Granularity": "hour"}, "20"),
                    (
                        "Group=sim&Granularity=all (first page)",
                        {"Group": "sim", "Granularity": "all"},
                        "100",
                    ),
                    (
                        "Group=sim&Granularity=day (first page)",
                        {"Group": "sim", "Granularity": "day"},
                        "",
                    ),
                    (
                        "Group=sim&Granularity=hour (first page)",
                        {"Group": "sim", "Granularity": "hour"},
                        "",
                    ),
                    (
                        "Group=network&Granularity=hour",
                        {"Group": "network", "Granularity": "hour"},
                        "",
                    ),
                    ("Fleet=..&Granularity=all", {"Fleet": fleet}, ""),
                ]
                print(
                    f"queries over {args.days} days, {args.repeat} times each, "
                    f"load average {_load()}"
                )
                for name, params, target in shapes:
                    p50, p99 = timed(client, {**params, **window}, args.repeat)
                    goal = f"   target p50 <= {target} ms" if target else ""
                    print(f"  {name:42s} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms{goal}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
