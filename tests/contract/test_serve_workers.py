"""`fleetsim serve --workers 2`: two API processes answer on one port and share the
database, so whatever one process writes, the other serves; SIGTERM stops them all."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from click.testing import CliRunner

from fleetsim.cli.main import main
from tests.contract.conftest import ACCOUNT_SID, AUTH_TOKEN, CREDENTIALS_ENV
from tests.support.server import LiveServer

pytestmark = [pytest.mark.live]


def api_processes(supervisor: int) -> list[int]:
    """The uvicorn worker processes started by `supervisor` (not multiprocessing's helper)."""
    found = []
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        for pid in (task / "children").read_text().split():
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text():
                found.append(int(pid))
    return found


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time the process has used, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def fresh_get(url: str) -> httpx.Response:
    """A request on a new connection: the kernel hands it to either process."""
    return httpx.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads processes from /proc")
def test_two_api_processes_share_one_database(tmp_path: Path) -> None:
    server = LiveServer(
        database_url=f"sqlite:///{tmp_path / 'fleetsim.db'}",
        workdir=tmp_path,
        env=CREDENTIALS_ENV,
        extra_args=["--workers", "2", "--no-udp"],
    )
    # Spawned processes import fleetsim afresh: slow on a busy machine, a second when idle.
    server.start(timeout=120)
    try:
        assert server.process is not None
        assert "API processes: 2" in server.output
        processes = api_processes(server.process.pid)
        assert len(processes) == 2
        base = f"{server.base_url}/v1"
        with httpx.Client(auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30) as client:
            network = client.get(f"{base}/Networks", params={"PageSize": 1}).json()["networks"][0]
            created = client.post(
                f"{base}/NetworkAccessProfiles",
                data={"UniqueName": "shared", "Networks": network["sid"]},
            )
            assert created.status_code == 201, created.text

        # Fleets created on fresh connections (by either process), then read by both: each
        # read sees every Fleet, until both processes have done real work.
        names: list[str] = []
        before = {pid: cpu_ticks(pid) for pid in processes}
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(max_workers=8) as pool:
            while True:
                name = f"fleet-{len(names)}"
                answer = httpx.post(
                    f"{base}/Fleets",
                    data={"UniqueName": name, "NetworkAccessProfile": "shared"},
                    auth=(ACCOUNT_SID, AUTH_TOKEN),
                    timeout=30,
                )
                assert answer.status_code == 201, answer.text
                names.append(name)
                pages = list(pool.map(fresh_get, [f"{base}/Fleets?PageSize=1000"] * 16))
                for page in pages:
                    assert page.status_code == 200, page.text
                    assert [f["unique_name"] for f in page.json()["fleets"]] == names
                used = {pid: cpu_ticks(pid) - before[pid] for pid in processes}
                if all(ticks >= 5 for ticks in used.values()):
                    break
                assert time.monotonic() < deadline, f"one process served nothing: {used}"
    finally:
        assert server.process is not None
        supervisor = server.process
        server.stop(signal.SIGTERM)
    assert supervisor.returncode in (0, -signal.SIGTERM), server.read_log()
    for pid in processes:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), f"process {pid} left behind"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_workers_and_a_seed_do_not_mix(tmp_path: Path) -> None:
    """Every process would repeat the seeded SIDs: refused before anything starts."""
    database = tmp_path / "x.db"
    result = CliRunner().invoke(
        main, ["serve", "--workers", "2", "--seed", "1", "--database-url", f"sqlite:///{database}"]
    )
    assert result.exit_code == 2
    assert "--seed makes every API process repeat the same SIDs" in result.stderr
    assert not database.exists()
