"""Installing like a user: the wheel, built from this tree, into a clean virtual environment
with the `testing` extra; then `fleetsim --version`, `fleetsim serve --demo`, and one call of
Twilio's SDK against it from that environment."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.server import free_port

pytestmark = [pytest.mark.live]

ROOT = Path(__file__).resolve().parent.parent.parent
UV = Path(sys.executable).parent / "uv"
DEMO_SID = "AC" + "de" * 16
DEMO_TOKEN = "demo" + "0" * 28


def _run(*command: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a fresh environment holding the wheel and its testing extra."""
    folder = tmp_path_factory.mktemp("wheel")
    _run(UV, "build", "--wheel", "--out-dir", folder / "dist", "--quiet")
    (wheel,) = (folder / "dist").glob("fleetsim-*.whl")
    _run(UV, "venv", "--quiet", "--python", sys.executable, folder / "venv")
    python = folder / "venv" / "bin" / "python"
    _run(UV, "pip", "install", "--quiet", "--python", python, f"{wheel}[testing]")
    return python.parent


@contextlib.contextmanager
def _demo(bin_dir: Path, workdir: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (workdir / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [bin_dir / "fleetsim", "serve", "--demo", "--port", str(port)],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=0.1)
        else:
            pytest.fail(
                f"fleetsim serve --demo did not answer:\n{(workdir / 'serve.log').read_text()}"
            )
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_installed_command_serves_the_demo_to_the_sdk(installed: Path, tmp_path: Path) -> None:
    assert _run(installed / "fleetsim", "--version").startswith("fleetsim, version ")
    assert _run(installed / "python", "-m", "pytest", "--version", cwd=tmp_path)

    with _demo(installed, tmp_path) as url:
        listed = _run(
            installed / "python",
            "-c",
            "import json, sys; from fleetsim.testing import fleetsim_client; "
            "client = fleetsim_client(sys.argv[1], sys.argv[2], sys.argv[3]); "
            "print(json.dumps([f.sid for f in client.supersim.v1.fleets.list()]))",
            url,
            DEMO_SID,
            DEMO_TOKEN,
            cwd=tmp_path,
        )

    fleets = json.loads(listed)
    assert len(fleets) == 3  # the demo's three Fleets
    assert all(sid.startswith("HF") for sid in fleets)
