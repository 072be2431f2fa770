"""The commands typed again and again (`fleetsim device`, `fleetsim modem`, `--version`)
import only what they use: the server's modules take most of a second to import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Modules only a node (serve, worker, migrate) or a database command needs.
_SERVER_MODULES = ["fleetsim.app.setup", "fleetsim.db.tables", "sqlalchemy", "starlette"]


def _imported_by(*args: str) -> tuple[str, list[str]]:
    """The output of `fleetsim ARGS` in a fresh interpreter, and which of the server's
    modules it imported."""
    script = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from fleetsim.cli.main import main\n"
        f"result = CliRunner().invoke(main, {list(args)!r})\n"
        f"imported = [m for m in {_SERVER_MODULES!r} if m in sys.modules]\n"
        "print(json.dumps([result.output, imported]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    output, imported = json.loads(done.stdout)
    return output, imported


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--version"], "version"),
        (["device", "--help"], "attach"),
        (["modem", "--help"], "--model"),
    ],
)
def test_quick_commands_do_not_import_the_server(args: list[str], shown: str) -> None:
    output, imported = _imported_by(*args)

    assert shown in output
    assert imported == []


def test_the_server_commands_are_there_when_asked_for() -> None:
    output, imported = _imported_by("serve", "--help")

    assert "--database-url" in output
    assert "fleetsim.app.setup" in imported
