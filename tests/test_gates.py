"""The strict gates run with the tests, so one command checks everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_and_format() -> None:
    lint = _run(str(BIN / "ruff"), "check", "src", "tests", "scripts", "bench")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run(str(BIN / "ruff"), "format", "--check", "src", "tests", "scripts", "bench")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_on_the_package() -> None:
    result = _run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_benchmarks() -> None:
    result = _run(str(BIN / "mypy"), "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts() -> None:
    """The layers, acyclic and forbidden-import contracts in pyproject.toml all hold."""
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    summary = result.stdout[result.stdout.find("Contracts") :]
    print(summary)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in summary, summary
