"""The npm packages the Node.js tests use, installed once at the versions pinned in
package-lock.json (`npm ci`), in a cache folder keyed by the lock file's hash."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["node_packages"]

HERE = Path(__file__).resolve().parent


def _cache_root() -> Path:
    configured = os.environ.get("FLEETSIM_NODE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "fleetsim-tests"


def node_packages() -> Path:
    """A folder holding node_modules with the pinned packages; skips the calling test
    without Node.js and npm, unless FLEETSIM_REQUIRE_NODE is set (then it fails)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        if os.environ.get("FLEETSIM_REQUIRE_NODE"):
            pytest.fail("Node.js and npm are required (apt-get install nodejs npm)")
        pytest.skip("Node.js and npm are not installed (apt-get install nodejs npm)")
    lock = (HERE / "package-lock.json").read_bytes()
    folder = _cache_root() / f"node-{hashlib.sha256(lock).hexdigest()[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # one install at a time (xdist workers, runs)
        if not (folder / ".installed").exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(HERE / name, folder / name)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=folder,
                check=True,
                capture_output=True,
                timeout=600,
            )
            (folder / ".installed").touch()
    return folder
