"""examples/firmware, a device program on the virtual modem, passes as its users would run
it: pytest in that folder, with the plugin alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.live]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "firmware"


def test_the_firmware_example_passes_with_the_plugin_alone() -> None:
    assert not list(EXAMPLE.rglob("conftest.py"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
