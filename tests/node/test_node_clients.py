"""Twilio's Node SDK (twilio-node) and its CLI (twilio-cli), installed from npm at the
versions pinned in package-lock.json, against a live fleetsim: list with paging, create,
and an error with its code.

`npm ci` installs into a cache folder keyed by the lock file's hash (FLEETSIM_NODE_CACHE
or ~/.cache/fleetsim-tests), so only the first run downloads. Without npm the tests are
skipped, unless FLEETSIM_REQUIRE_NODE is set (CI sets it: .ci/run installs Node.js).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleetsim.testing import Server
from tests.node.packages import node_packages

pytestmark = [pytest.mark.live]

HERE = Path(__file__).resolve().parent
SCRIPTS = ("redirect.js", "scenario.js", "cli-redirect.js")
MISSING_FLEET = "HF" + "0" * 32


@pytest.fixture(scope="module")
def node_project() -> Path:
    """A folder with the pinned packages installed and the scenario scripts beside them."""
    folder = node_packages()
    for name in SCRIPTS:
        shutil.copy(HERE / name, folder / name)
    return folder


def _env(server: Server, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "FLEETSIM_URL": server.url,
        "TWILIO_ACCOUNT_SID": server.account_sid,
        "TWILIO_AUTH_TOKEN": server.auth_token,
        **extra,
    }


def _make_profile(server: Server) -> str:
    v1 = server.client().supersim.v1
    network = v1.networks.list(iso_country="US", limit=1)[0].sid
    return str(v1.network_access_profiles.create(unique_name="cli", networks=[network]).sid)


def test_twilio_node_pages_creates_and_reports_error_codes(
    node_project: Path, fleetsim_server: Server
) -> None:
    run = subprocess.run(
        ["node", "scenario.js"],
        cwd=node_project,
        env=_env(fleetsim_server),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    out: dict[str, Any] = json.loads(run.stdout)
    assert len(out["created"]) == 3
    assert out["listed"] == out["created"]  # oldest first, over two pages
    assert out["first_page"] == 2
    assert out["next_page_url"].startswith(f"{fleetsim_server.url}/v1/Fleets?")
    assert out["error"] == {
        "status": 404,
        "code": 20404,
        "message": f"The requested resource /Fleets/{MISSING_FLEET} was not found",
    }


def test_twilio_cli_pages_creates_and_reports_error_codes(
    node_project: Path, fleetsim_server: Server
) -> None:
    profile = _make_profile(fleetsim_server)
    env = _env(
        fleetsim_server,
        NODE_OPTIONS=f"--require {node_project / 'cli-redirect.js'}",
        HOME=str(node_project / "home"),  # the CLI's own config stays out of the user's
    )

    def twilio(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(node_project / "node_modules" / ".bin" / "twilio"), *args],
            cwd=node_project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    v1 = fleetsim_server.client().supersim.v1
    created = [
        v1.fleets.create(network_access_profile=profile, unique_name=name).sid
        for name in ("sdk-a", "sdk-b")
    ]
    made = twilio(
        "api:supersim:v1:fleets:create",
        f"--network-access-profile={profile}",
        "--unique-name=cli-c",
        "-o",
        "json",
    )
    assert made.returncode == 0, made.stderr
    created.append(json.loads(made.stdout)[0]["sid"])
    listed = twilio("api:supersim:v1:fleets:list", "--page-size=2", "-o", "json")
    missing = twilio("api:supersim:v1:fleets:fetch", f"--sid={MISSING_FLEET}")

    assert listed.returncode == 0, listed.stderr
    assert [fleet["sid"] for fleet in json.loads(listed.stdout)] == created
    assert missing.returncode == 20
    assert "Error code 20404 from Twilio" in missing.stderr
    assert f"/Fleets/{MISSING_FLEET} was not found" in missing.stderr
