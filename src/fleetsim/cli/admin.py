"""Administrative commands: accounts, API keys, KORE API clients, connection-event sinks,
and the inventory of physical cards."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import Progress

from fleetsim.cli.common import (
    database,
    database_option,
    err,
    print_json,
    server_clock,
    user_errors,
)
from fleetsim.core.clock import SystemClock
from fleetsim.core.iccid import ICCID_PREFIXES
from fleetsim.core.sids import SidFactory
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import (
    CardFileError,
    generate_cards,
    import_cards,
    read_cards,
    write_cards,
)
from fleetsim.network.events import set_event_sink
from fleetsim.resources.accounts.keys import create_api_key
from fleetsim.resources.accounts.service import auth_token_of, create_account, fetch_account
from fleetsim.resources.api_clients.service import DEFAULT_LIFETIME, LIFETIMES, create_api_client

__all__ = ["accounts", "api_clients", "events", "inventory", "keys"]


@click.group()
def events() -> None:
    """Connection events."""


@events.command("sink")
@click.option("--account", "account_sid", required=True, help="Account SID.")
@click.option("--url", default=None, help="Where to POST the account's connection events.")
@click.option("--clear", is_flag=True, help="Stop delivering them.")
@database_option
def events_sink(account_sid: str, url: str | None, clear: bool, database_url: str) -> None:
    """Set (or clear) the account's connection-event sink."""
    if (url is None) == (not clear):
        raise click.UsageError("Give --url URL, or --clear.")
    with (
        user_errors(),
        database(database_url) as engine,
        unit_of_work(engine, write=True) as session,
    ):
        account = fetch_account(session, account_sid)
        set_event_sink(session, account.id, url, now=SystemClock().now())
    print_json({"account_sid": account_sid, "event_sink_url": url})


@click.group()
def accounts() -> None:
    """Accounts and subaccounts."""


@accounts.command("create")
@click.option("--friendly-name", default=None)
@click.option("--parent", default=None, help="Account SID of the parent (makes a subaccount).")
@database_option
def accounts_create(friendly_name: str | None, parent: str | None, database_url: str) -> None:
    """Create an account and print it, with its auth token, as JSON."""
    with (
        user_errors(),
        database(database_url) as engine,
        unit_of_work(engine, write=True) as session,
    ):
        parent_account = fetch_account(session, parent) if parent else None
        account = create_account(
            session,
            friendly_name=friendly_name,
            parent=parent_account,
            clock=SystemClock(),
            sids=SidFactory(),
        )
        created = {
            "sid": account.sid,
            "friendly_name": account.friendly_name,
            "auth_token": auth_token_of(session, account),
            "owner_account_sid": parent_account.sid if parent_account else account.sid,
            "status": account.status,
        }
    print_json(created)


@click.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--account", "account_sid", required=True, help="Account SID the key acts for.")
@click.option("--friendly-name", default=None)
@database_option
def keys_create(account_sid: str, friendly_name: str | None, database_url: str) -> None:
    """Create an API key; its secret is shown only now."""
    with (
        user_errors(),
        database(database_url) as engine,
        unit_of_work(engine, write=True) as session,
    ):
        account = fetch_account(session, account_sid)
        created = create_api_key(
            session, account, friendly_name=friendly_name, clock=SystemClock(), sids=SidFactory()
        )
        key = {
            "sid": created.key.sid,
            "secret": created.secret,
            "account_sid": account.sid,
            "friendly_name": created.key.friendly_name,
        }
    print_json(key)


@click.group("api-clients")
def api_clients() -> None:
    """KORE API clients (OAuth 2.0 client credentials for Bearer tokens)."""


@api_clients.command("create")
@click.option("--account", "account_sid", required=True, help="Account SID the client acts for.")
@click.option(
    "--lifetime",
    type=click.Choice(list(LIFETIMES)),
    default=DEFAULT_LIFETIME,
    show_default=True,
    help="How long each of its access tokens lives.",
)
@click.option("--name", default=None, help="A name for the client.")
@click.option("--json", "as_json", is_flag=True, help="Print {client_id, client_secret}.")
@database_option
def api_clients_create(
    account_sid: str, lifetime: str, name: str | None, as_json: bool, database_url: str
) -> None:
    """Create an API client; its secret is shown only now."""
    with (
        user_errors(),
        database(database_url) as engine,
        unit_of_work(engine, write=True) as session,
    ):
        account = fetch_account(session, account_sid)
        created = create_api_client(
            session,
            account,
            name=name,
            lifetime=lifetime,
            clock=SystemClock(),
            sids=SidFactory(),
        )
        client_id = created.client.client_id
    if as_json:
        print_json({"client_id": client_id, "client_secret": created.secret})
    else:
        click.echo(f"client_id:     {client_id}")
        click.echo(f"client_secret: {created.secret}")
        err.print("The secret is shown only now: keep it.")


@click.group()
def inventory() -> None:
    """Physical SIM cards waiting to be registered."""


@inventory.command("generate")
@click.option("--count", required=True, type=click.IntRange(1, 10_000_000))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--seed", type=int, default=None, help="Make the same cards every time.")
@click.option(
    "--iccid-prefix",
    type=click.Choice(ICCID_PREFIXES),
    default=ICCID_PREFIXES[0],
    show_default=True,
    help="8910392: the Super SIMs KORE ships since 2025.",
)
@database_option
def inventory_generate(
    count: int, output: Path | None, seed: int | None, iccid_prefix: str, database_url: str
) -> None:
    """Make COUNT new cards, store them, and write iccid,registration_code CSV."""
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    cards = list(generate_cards(count, rng, iccid_prefix=iccid_prefix))
    with database(database_url) as engine:
        result = _import_with_progress(engine, cards, "Storing cards")
    if output is None:
        write_cards(cards, sys.stdout)  # type: ignore[arg-type]
    else:
        with output.open("w", encoding="utf-8") as out:
            write_cards(cards, out)
    err.print(f"{result.added} cards stored" + (f", written to {output}" if output else ""))


@inventory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_option
def inventory_import(file: Path, database_url: str) -> None:
    """Load an iccid,registration_code CSV (as written by `inventory generate`)."""
    try:
        with file.open(encoding="utf-8", newline="") as handle:
            cards = read_cards(handle)
    except (CardFileError, UnicodeDecodeError) as exc:
        raise click.ClickException(
            f"{file}: {exc}. Fix the file and run the import again."
        ) from None
    with database(database_url) as engine:
        result = _import_with_progress(engine, cards, f"Importing {file.name}")
    err.print(f"{result.added} cards added, {result.already_known} already known")


def _import_with_progress(engine: Any, cards: list[Any], label: str) -> Any:
    # Dated as the server dates things: a manual clock's time, not the wall clock's.
    clock = server_clock(engine)
    with Progress(console=err, transient=False) as progress:
        task = progress.add_task(label, total=len(cards))
        with unit_of_work(engine, write=True) as session:
            return import_cards(
                session,
                cards,
                clock=clock,
                progress=lambda n: progress.advance(task, n),
            )
