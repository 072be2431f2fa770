"""What the HTTP benchmarks share: wrk (installed when missing), servers started and stopped
by the script, a wrk run described by a small Lua script, and the machine's description.

Every figure comes from wrk's own summary (its `done` hook), so a run that got errors or
non-2xx answers says so instead of passing for a fast one.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx2

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_wrk() -> str:
    """The path of wrk; installed from Debian's packages when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing; installing it with apt-get (Debian package wrk)", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
            subprocess.run(install, env=env, check=True, capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit(
        "These benchmarks drive the servers with wrk (https://github.com/wg/wrk). Install it "
        "(Debian/Ubuntu: sudo apt-get install wrk; macOS: brew install wrk) and run again."
    )


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load}"
    )


@dataclass
class Server:
    """A server process this script started (and stops)."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def rss_mb(self) -> tuple[float, float]:
        """Resident memory now and at its peak, in MB (Linux), summed over the process and
        its children (uvicorn's workers)."""
        now = peak = 0.0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        now += int(line.split()[1]) / 1024
                    elif line.startswith("VmHWM:"):
                        peak += int(line.split()[1]) / 1024
        return now, peak


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            for child in map(int, text):
                found += [child, *_children(child)]
    return found


_JOBS_DUE = re.compile(r"^fleetsim_jobs_due (\S+)$", re.MULTILINE)


def wait_for_jobs(url: str, timeout: float = 600) -> tuple[int, float]:
    """Wait until the job worker of the server at `url` has no job due (by its /metrics):
    a case measured while the worker delivers starts without the backlog of the cases
    before it. The jobs that were due at first, and the seconds waited."""
    began = time.monotonic()
    first = None
    while time.monotonic() - began < timeout:
        found = _JOBS_DUE.search(httpx2.get(f"{url}/metrics", timeout=60).text)
        due = int(float(found.group(1))) if found else 0
        first = due if first is None else first
        if due == 0:
            return first, time.monotonic() - began
        time.sleep(0.5)
    raise SystemExit(f"the job worker at {url} still had jobs due after {timeout:.0f} s")


def start_server(
    name: str, command: Sequence[str], port: int, folder: Path, env: dict[str, str] | None = None
) -> Server:
    """Start `command` (which listens on `port`) and wait until /health or / answers."""
    log = folder / f"{name}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=folder,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, process, port, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited at start:\n{log.read_text()}")
        try:
            httpx2.get(f"{server.url}/health", timeout=1)
            return server
        except httpx2.TransportError:
            time.sleep(0.1)
    server.stop()
    raise SystemExit(f"{name} did not answer within 120 s:\n{log.read_text()}")


@contextlib.contextmanager
def servers() -> Iterator[list[Server]]:
    """A list to put started servers in; every one is stopped on the way out."""
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in reversed(started):
            server.stop()


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# Appended to every script: wrk calls `done` once with the totals of all threads.
_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def request_script(
    *, method: str = "GET", auth: str | None = None, body: str | None = None, extra: str = ""
) -> str:
    """A wrk script for one fixed request; `extra` may define `request()` for varying ones."""
    lines = [f"wrk.method = {lua_string(method)}"]
    if auth:
        lines.append(f'wrk.headers["Authorization"] = {lua_string(auth)}')
    if method == "POST":
        lines.append('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"')
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    return "\n".join(lines) + "\n" + extra + _DONE


def run_wrk(
    wrk: str,
    url: str,
    script: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    folder: Path | None = None,
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=folder, delete=False) as handle:
        handle.write(script)
        path = handle.name
    try:
        result = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                path,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(path)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            requests, micros, p50, p99, errors = map(int, line.split()[1:])
            return WrkResult(requests, micros / 1e6, p50 / 1000, p99 / 1000, errors)
    raise RuntimeError(f"wrk printed no summary:\n{result.stdout}\n{result.stderr}")


class Recorded:
    """What a benchmark prints, kept to be written to bench/README.md as well."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._stdout = sys.stdout

    def write(self, text: str) -> int:
        self.lines.append(text)
        return self._stdout.write(text)

    def flush(self) -> None:
        self._stdout.flush()


@contextlib.contextmanager
def recorded_in_readme(section: str, command: str) -> Iterator[None]:
    """Print as usual; when the block ends without error, put what it printed in
    bench/README.md under the heading `section` (replacing that section's earlier run),
    with the command that produced it, so the figures there are always a run's."""
    recorder = Recorded()
    sys.stdout = recorder
    try:
        yield
    finally:
        sys.stdout = recorder._stdout
    readme = BENCH / "README.md"
    text = readme.read_text() if readme.exists() else "# Performance\n"
    begin, end = f"<!-- {section}: begin -->", f"<!-- {section}: end -->"
    # Without the carriage returns that rewrite a progress line on a terminal.
    output = "".join(recorder.lines).replace("\r", "").rstrip("\n")
    block = f"{begin}\n## {section}\n\n`{command}`\n\n```\n{output}\n```\n{end}"
    if begin in text and end in text:
        before, _, rest = text.partition(begin)
        _, _, after = rest.partition(end)
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text)


_FRAME = re.compile(r"^(.*?) \((?:.*/(?:site-packages|src)/)?([^:]*)(?::\d+)?\)$")


def summarize_profile(folded: str, top: int = 25) -> str:
    """Where the time goes, from py-spy's folded stacks: per function, the share of samples
    in which it runs its own code (self) and in which it is on the stack (total)."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        # "function (path/to/file.py:line)" -> "function (to/file.py)": one entry per function
        frames = [_FRAME.sub(r"\1 (\2)", frame) for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + count
    if not samples:
        return "no samples\n"
    lines = [f"{samples} samples; self% total% function", ""]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"{100 * count / samples:5.1f} {100 * total[frame] / samples:6.1f}  {frame}")
    lines += ["", "on the stack most often (total%):", ""]
    for frame, count in sorted(total.items(), key=lambda item: -item[1])[: top * 2]:
        lines.append(f"{100 * count / samples:6.1f}  {frame}")
    return "\n".join(lines) + "\n"
