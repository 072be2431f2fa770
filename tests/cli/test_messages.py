"""CLI errors say what went wrong and what to do next, in one line, without a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from fleetsim.cli.main import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_a_database_that_cannot_be_opened_names_the_option_to_fix() -> None:
    code, output = run("migrate", "--database-url", "postgresql://nobody:secret@127.0.0.1:1/x")

    assert code == 1
    assert "Cannot open the database postgresql://nobody:***@127.0.0.1:1/x" in output
    assert "Check --database-url (or FLEETSIM_DATABASE_URL)" in output
    assert "Traceback" not in output


def test_an_unknown_account_says_how_to_make_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fleetsim.db'}"
    code, output = run("accounts", "create", "--parent", "AC" + "0" * 32, "--database-url", url)

    assert code == 1
    assert f"/Accounts/AC{'0' * 32} was not found." in output
    assert "`fleetsim accounts create` for accounts" in output


def test_serve_on_a_taken_port_says_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        url = f"sqlite:///{tmp_path / 'fleetsim.db'}"
        code, output = run("serve", "--port", str(port), "--database-url", url)

    assert code == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in output
    assert "Choose another with --port" in output
    assert not (tmp_path / "fleetsim.db").exists()  # nothing was touched
