"""CLI errors say what went wrong and what to do next, in one line, without a traceback."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fleetsim.cli.demo import print_next_steps
from fleetsim.cli.main import main
from tests.support.server import free_port


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_a_database_that_cannot_be_opened_names_the_option_to_fix() -> None:
    code, output = run("migrate", "--database-url", "postgresql://nobody:secret@127.0.0.1:1/x")

    assert code == 1
    assert "Cannot open the database postgresql://nobody:***@127.0.0.1:1/x" in output
    assert "Check --database-url (or FLEETSIM_DATABASE_URL)" in output
    assert "Traceback" not in output


def test_a_database_of_a_newer_fleetsim_is_left_alone_and_says_so(tmp_path: Path) -> None:
    database = tmp_path / "fleetsim.db"
    url = f"sqlite:///{database}"
    assert run("migrate", "--database-url", url)[0] == 0
    with sqlite3.connect(database) as connection:  # as a later release would leave it
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    code, output = run("migrate", "--database-url", url)

    assert code == 1
    assert f"The database {url} was migrated by a newer fleetsim: its schema is 9999" in output
    assert "Run the newer fleetsim" in output
    assert "Traceback" not in output
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("9999",)
        ]


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


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("FLEETSIM_AUTH_TOKEN", "tok", "must be 32 letters or digits"),
        ("FLEETSIM_ACCOUNT_SID", "AC123", "must be AC followed by 32 hex digits"),
    ],
)
def test_serve_with_a_malformed_account_in_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv("FLEETSIM_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("FLEETSIM_AUTH_TOKEN", "a" * 32)
    monkeypatch.setenv(variable, value)
    url = f"sqlite:///{tmp_path / 'fleetsim.db'}"

    code, output = run("serve", "--port", str(free_port()), "--database-url", url)

    assert code == 1
    assert f"{variable} {reason}." in output
    assert "unset FLEETSIM_ACCOUNT_SID and FLEETSIM_AUTH_TOKEN" in output
    assert "Traceback" not in output
    assert not (tmp_path / "fleetsim.db").exists()  # nothing was touched


def _unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    """`fleetsim ARGS` as a user to whom a mode-555 folder is read-only: as root, with its
    capabilities dropped (root's override of file permissions is one of them)."""
    command = [sys.executable, "-m", "fleetsim", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux) to drop privileges")
        command = [setpriv, "--bounding-set=-all", "--inh-caps=-all", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_a_database_in_a_read_only_folder_names_the_folder(tmp_path: Path, existing: bool) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    url = f"sqlite:///{folder / 'fleetsim.db'}"
    if existing:
        assert run("migrate", "--database-url", url)[0] == 0
    folder.chmod(0o555)
    try:
        result = _unprivileged("serve", "--port", str(free_port()), "--database-url", url)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert (
            f"Cannot write in {folder}, the folder of the database {url}: SQLite keeps "
            "its journal (-wal, -shm) and fleetsim its secret key (.key) beside the "
            "database. Make the folder writable, or choose another path with "
            "--database-url (or FLEETSIM_DATABASE_URL)."
        ) in " ".join(result.stderr.split())
    finally:
        folder.chmod(0o755)


def _subcommands(group: click.Group) -> dict[str, click.Command]:
    """A group's subcommands, as its help lists them (`main` imports them on demand)."""
    context = click.Context(group)
    found = {name: group.get_command(context, name) for name in group.list_commands(context)}
    return {name: command for name, command in found.items() if command is not None}


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in _subcommands(group).items():
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("path", _commands(main), ids=lambda p: " ".join(p) or "fleetsim")
def test_help_shows_each_commands_description_whole(path: tuple[str, ...]) -> None:
    code, output = run(*path, "--help")

    assert code == 0
    group = main
    for name in path:
        group = _subcommands(group)[name]  # type: ignore[assignment]
    # Compared without white space: click wraps long lines, also after a hyphen.
    listing = "".join(output.split("Commands:", 1)[1].split())
    for name, command in _subcommands(group).items():
        first = "".join((command.help or "").split("\n\n", 1)[0].split())
        assert f"{name}{first}" in listing
    assert "..." not in listing


def test_the_demos_python_line_runs_in_fleetsims_own_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`python` on the PATH may not have fleetsim (or Twilio's SDK); the interpreter that
    runs the server has both."""
    print_next_steps("http://127.0.0.1:8080")

    (line,) = [line for line in capsys.readouterr().out.splitlines() if "fleetsim_client" in line]
    command = shlex.split(line)
    assert command[:2] == [sys.executable, "-c"]
    assert 'fleetsim_client("http://127.0.0.1:8080",' in command[2]
