"""`./dev`, the one command of a fresh clone: clear about mistakes, quick when set up."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _dev(*args: str, trace: bool = False) -> subprocess.CompletedProcess[str]:
    shell = ["sh", "-x"] if trace else ["sh"]
    return subprocess.run(
        [*shell, str(ROOT / "dev"), *args], capture_output=True, text=True, timeout=300
    )


def test_an_unknown_command_is_named_before_the_usage() -> None:
    result = _dev("frobnicate")

    assert result.returncode == 2
    assert result.stderr.startswith("./dev: unknown command 'frobnicate'\n")
    assert "./dev serve [ARGS]" in result.stderr
    assert result.stdout == ""


def test_the_environment_is_synced_only_when_the_lock_or_project_changed() -> None:
    _dev("fleetsim", "--version")  # brings .venv up to date if it was not
    again = _dev("fleetsim", "--version", trace=True)

    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("fleetsim, version ")
    assert "uv sync" not in again.stderr
