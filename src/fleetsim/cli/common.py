"""What the `fleetsim` commands share: the database option, a database for one command,
the server clock, JSON output, and errors shown as one line that says what to do next."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from sqlalchemy import Engine

from fleetsim.cli.errors import next_step
from fleetsim.cli.preflight import open_database
from fleetsim.core.clock import Clock, SystemClock
from fleetsim.core.errors import TwilioError
from fleetsim.core.sealing import SecretKeyError
from fleetsim.db.dialect import DEFAULT_DATABASE_URL
from fleetsim.engine.clock import clock_for, configure_clock

__all__ = ["database", "database_option", "err", "print_json", "server_clock", "user_errors"]

err = Console(stderr=True)

database_option = click.option(
    "--database-url",
    envvar="FLEETSIM_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="SQLite file (sqlite:///path.db) or PostgreSQL (postgresql://user@host/db).",
)


@contextmanager
def database(url: str) -> Iterator[Engine]:
    """A migrated database for one command; its connections close when the command ends."""
    engine = open_database(url)
    try:
        yield engine
    finally:
        engine.dispose()


def server_clock(engine: Engine) -> Clock:
    """The clock the servers on this database use (manual in tests), so that what a
    command writes is dated as the server would date it."""
    return clock_for(engine, configure_clock(engine, None, start=None, system=SystemClock()))


def print_json(value: dict[str, Any]) -> None:
    click.echo(json.dumps(value, indent=2))


@contextmanager
def user_errors() -> Iterator[None]:
    """Show a TwilioError (or a missing secret key) as a one-line message, not a traceback."""
    try:
        yield
    except TwilioError as exc:
        raise click.ClickException(f"{exc.message}. {next_step(exc.code)}") from None
    except SecretKeyError as exc:
        raise click.ClickException(str(exc)) from None
