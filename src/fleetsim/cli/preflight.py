"""Checks a command makes before it opens the database or listens, and the opening
itself: each failure is one line that says what went wrong and what to do next."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from fleetsim.app.setup import (
    ACCOUNT_SID_ENV,
    AUTH_TOKEN_ENV,
    check_startup_account,
    prepare_database,
)
from fleetsim.core.errors import InvalidParameter
from fleetsim.db.migrate import NewerSchema

__all__ = [
    "check_database_folder",
    "check_port_free",
    "check_startup_credentials",
    "open_database",
]


def open_database(url: str) -> Engine:
    """`prepare_database`, with a message that says how to fix a database that won't open."""
    check_database_folder(url)
    try:
        return prepare_database(url)
    except NewerSchema as exc:
        raise click.ClickException(
            f"The database {_shown(url)} was migrated by a newer fleetsim: its schema is "
            f"{exc.revision}, and this fleetsim knows schemas up to {exc.head}. Run the newer "
            "fleetsim (every node of one database runs the same version), or choose another "
            "database with --database-url (or FLEETSIM_DATABASE_URL)."
        ) from None
    except (OperationalError, ArgumentError, NoSuchModuleError) as exc:
        shown = _shown(url)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(
            f"Cannot open the database {shown}: {reason}. Check --database-url (or "
            "FLEETSIM_DATABASE_URL): sqlite:///path.db, or postgresql://user@host/db of a "
            "PostgreSQL server that runs and has that database."
        ) from None


def _shown(url: str) -> str:
    """`url` as messages show it: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def check_database_folder(url: str) -> None:
    """Fail early, naming the folder, when a SQLite database's folder cannot be written:
    SQLite's own message ("unable to open database file") does not say why."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # open_database names the malformed URL
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    folder = Path(parsed.database).absolute().parent
    if folder.is_dir() and not os.access(folder, os.W_OK):
        raise click.ClickException(
            f"Cannot write in {folder}, the folder of the database {url}: SQLite keeps its "
            "journal (-wal, -shm) and fleetsim its secret key (.key) beside the database. "
            "Make the folder writable, or choose another path with --database-url (or "
            "FLEETSIM_DATABASE_URL)."
        )


def check_port_free(host: str, port: int) -> None:
    """Fail early, with the way out, when another program holds the port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"Cannot listen on {host}:{port} ({exc.strerror}): another program uses it. "
                "Choose another with --port, or stop that program."
            ) from None


def check_startup_credentials() -> None:
    """Fail early, naming the variable, when the environment's account SID or Auth Token
    has the wrong shape (`serve` makes or updates that account at start)."""
    try:
        check_startup_account()
    except InvalidParameter as exc:
        variable = ACCOUNT_SID_ENV if exc.parameter == "AccountSid" else AUTH_TOKEN_ENV
        raise click.ClickException(
            f"{variable} {exc.reason}. Fix it (a token: python3 -c 'import secrets; "
            f"print(secrets.token_hex(16))'), or unset {ACCOUNT_SID_ENV} and {AUTH_TOKEN_ENV} "
            "to have serve make an account and print its credentials."
        ) from None
