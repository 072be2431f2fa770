"""The documentation site builds without a warning, its generated pages are current, and
what it states about the code matches the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fleetsim.engine.policies import LIFECYCLES

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    build = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert build.returncode == 0, build.stdout + build.stderr
    assert "WARNING" not in build.stderr, build.stderr
    assert (tmp_path / "site" / "api-reference" / "index.html").exists()


def test_the_generated_pages_are_current() -> None:
    check = subprocess.run(
        [sys.executable, "scripts/make_docs.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert check.returncode == 0, check.stdout + check.stderr


def test_every_lifecycle_is_listed_with_its_default_delay() -> None:
    page = (ROOT / "docs" / "time.md").read_text(encoding="utf-8")
    listed = {
        name: float(delay)
        for name, delay in re.findall(r"^\| `(\w+)` \| .* \| (\d+(?:\.\d+)?) s\b", page, re.M)
    }

    assert listed == LIFECYCLES


def test_the_readme_is_a_landing_page() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()

    assert len(lines) <= 200
