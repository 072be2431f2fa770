"""Two servers measured in turn under wrk: fleetsim against a reference (the bare app, or
fleetsim on another database), a few rounds, each of fleetsim's runs compared with the
reference's runs just before and after it, one printed line per case."""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
from harness import Server, WrkResult, run_wrk, summarize_profile
from wrk_scripts import ACCOUNT, TOKEN

__all__ = ["Bench", "Request"]

Request = tuple[str, Callable[[], str]]  # a case's path, and what makes its wrk script


class Bench:
    def __init__(self, args: argparse.Namespace, wrk: str, folder: Path) -> None:
        self.args = args
        self.wrk = wrk
        self.folder = folder
        self.connections = args.connections
        self.results: dict[str, WrkResult] = {}
        self.ratios: dict[str, float] = {}  # to the bare app of the same moment

    def wrk_run(self, server: Server, path: str, script: str, seconds: float) -> WrkResult:
        result = run_wrk(
            self.wrk,
            server.url + path,
            script,
            seconds=seconds,
            connections=self.connections,
            folder=self.folder,
        )
        # wrk stops with requests still queued in the server: let it finish them, or the
        # next run would pay for them (an invalid create waits behind the queued writes,
        # a health check behind the reads).
        httpx2.post(f"{server.url}/v1/Fleets", auth=(ACCOUNT, TOKEN), timeout=600)
        httpx2.get(f"{server.url}/health", timeout=600)
        time.sleep(0.5)
        return result

    @contextlib.contextmanager
    def profiling(self, server: Server, case: str) -> Iterator[None]:
        """With --profile: py-spy samples `server` while the block runs; the samples go to
        `<folder>/<case>.folded` (for speedscope or flamegraph.pl) and a summary of where
        the time goes to `<folder>/<case>.txt`. Sampling slows the server: read the
        request rates of a profiled run as figures of the profile only."""
        if self.args.profile is None:
            yield
            return
        self.args.profile.mkdir(parents=True, exist_ok=True)
        stem = self.args.profile / re.sub(r"[^a-z0-9]+", "-", case.lower()).strip("-")
        folded = stem.with_suffix(".folded")
        py_spy = Path(sys.executable).with_name("py-spy")  # a dev dependency of the project
        pid = str(server.process.pid)
        command = [str(py_spy), "record", "--pid", pid, "--format", "raw"]
        command += ["--output", str(folded), "--rate", "250", "--nonblocking"]
        spy = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)  # py-spy writes the samples when interrupted
            spy.wait(timeout=60)
            if folded.exists():
                summary = summarize_profile(folded.read_text())
                stem.with_suffix(".txt").write_text(summary)
                print(f"  profile of {case}: {stem}.txt (and .folded)")

    def compare(
        self,
        name: str,
        fleetsim: Server,
        bare: Server,
        path: str,
        script: Callable[[], str],
        target: float | None,
        ran: Callable[[WrkResult], None] = lambda result: None,
        *,
        refused: bool = False,
        bare_request: Request | None = None,
    ) -> WrkResult:
        """The bare app and fleetsim in turn, `--rounds` times, and the bare app once more,
        after a short warm-up of each; one printed line. Each fleetsim run is compared to
        the mean of the bare runs just before and just after it, so that a drift of the
        machine's speed weighs on both sides alike (on the shared 2-core machine the bare
        app's figure moved between 8,600 and 15,500 req/s within one run), and the line
        shows the median round (its figures and its ratio), then every round's ratio in
        the order the rounds ran. `script` makes each run's wrk
        script; `ran` hears of each of fleetsim's runs. `bare_request`, the path and
        script factory of the reference when it needs its own (another fleetsim, whose
        SIDs differ)."""
        seconds, warm = self.args.seconds, self.args.warmup
        bare_path, bare_script = bare_request or (path, script)
        self.wrk_run(bare, bare_path, bare_script(), warm)
        ran(self.wrk_run(fleetsim, path, script(), warm))
        bare_runs = [self.wrk_run(bare, bare_path, bare_script(), seconds)]
        rounds: list[tuple[float, WrkResult, float]] = []  # ratio, fleetsim's run, bare rate
        for turn in range(self.args.rounds):
            with self.profiling(fleetsim, name) if turn == 0 else contextlib.nullcontext():
                result = self.wrk_run(fleetsim, path, script(), seconds)
            ran(result)
            bare_runs.append(self.wrk_run(bare, bare_path, bare_script(), seconds))
            reference_rate = (bare_runs[-2].rate + bare_runs[-1].rate) / 2
            ratio = result.rate / reference_rate if reference_rate else 0.0
            rounds.append((ratio, result, reference_rate))
        ratio, result, reference_rate = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
        ratios = [r[0] for r in rounds]
        verdict = ""
        if target is not None:
            verdict = f"target >= {target:.2f}x: " + ("met" if ratio >= target else "NOT MET")
        # A case of refused requests (`refused`) counts its 4xx answers as wrk's errors.
        errors = sum(r[1].errors for r in rounds)
        shown = f"  {errors} ERRORS" if errors and not refused else ""
        in_order = " ".join(f"{each:.2f}" for each in ratios)  # a drift shows as a trend
        print(
            f"{name:34s} {result.rate:9,.0f} {reference_rate:9,.0f} {ratio:6.2f}x "
            f"{result.p50_ms:8.1f} {result.p99_ms:8.1f} {in_order:>14s}"
            f"   {verdict}{shown}",
            flush=True,
        )
        self.results[name] = result
        self.ratios[name] = ratio
        return result
