"""The `fleetsim` command."""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine

from fleetsim.cli.device import device
from fleetsim.cli.errors import check_port_free, next_step, open_database
from fleetsim.cli.provisioning import esim, settings_updates
from fleetsim.cli.simulate import simulate
from fleetsim.core.clock import SystemClock
from fleetsim.core.errors import TwilioError
from fleetsim.core.sealing import SecretKeyError
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import DEFAULT_DATABASE_URL, create_database_engine
from fleetsim.db.secret_key import token_box
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.worker import Worker
from fleetsim.http.runtime import Runtime
from fleetsim.inventory.service import (
    CardFileError,
    generate_cards,
    import_cards,
    read_cards,
    write_cards,
)
from fleetsim.network.events import set_event_sink
from fleetsim.network.udp import UdpBridge
from fleetsim.resources.accounts.keys import create_api_key
from fleetsim.resources.accounts.service import auth_token_of, create_account, fetch_account
from fleetsim.setup import (
    build_runtime,
    ensure_startup_account,
    ensure_startup_operator,
    new_worker,
)
from fleetsim.webhooks.transport import (
    DESTINATIONS_ENV,
    WEBHOOK_ALLOW_ENV,
    DestinationPolicy,
    HttpTransport,
)

__all__ = ["main"]

err = Console(stderr=True)

database_option = click.option(
    "--database-url",
    envvar="FLEETSIM_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="SQLite file (sqlite:///path.db) or PostgreSQL (postgresql://user@host/db).",
)


@click.group()
@click.version_option(package_name="fleetsim")
def main() -> None:
    """fleetsim: the Super SIM v1 API with a simulated cellular network behind it."""


clock_option = click.option(
    "--clock",
    "clock_mode",
    type=click.Choice(["real", "manual"]),
    default=None,
    help="real: the system clock; manual: moves only through POST /control/clock/advance. "
    "Kept in the database, so every node shares it (default: as the database says, real).",
)
clock_start_option = click.option(
    "--clock-start",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="With --clock manual: the time to start at (UTC), e.g. 2026-01-01T00:00:00Z.",
)
webhook_destinations_option = click.option(
    "--webhook-destinations",
    type=click.Choice(["any", "public"]),
    envvar=DESTINATIONS_ENV,
    default="any",
    show_default=True,
    help="public: refuse webhooks to private, loopback, link-local and other non-public "
    "addresses, checked after DNS resolution at delivery (for shared deployments).",
)
webhook_allow_option = click.option(
    "--webhook-allow",
    multiple=True,
    envvar=WEBHOOK_ALLOW_ENV,
    metavar="CIDR",
    help="With --webhook-destinations public: a network webhooks may reach all the same "
    "(repeatable; the variable takes a list separated by spaces or commas).",
)


def _webhook_transport(destinations: str, allow: tuple[str, ...]) -> HttpTransport:
    try:
        return HttpTransport(policy=DestinationPolicy.parse(destinations, allow))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--webhook-allow") from None


lease_option = click.option(
    "--job-lease",
    type=click.FloatRange(0.5, 3600),
    default=30.0,
    show_default=True,
    help="Seconds after which a job claimed by a worker that died is claimed again.",
)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@database_option
@click.option("--public-url", default=None, help="Base of absolute URLs in responses.")
@click.option("--seed", type=int, default=None, help="Seed the SID factory (repeatable SIDs).")
@clock_option
@clock_start_option
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Run a job worker in this process (use --no-worker with separate `fleetsim worker`s).",
)
@lease_option
@click.option(
    "--udp-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 of the UDP bridge for IP Commands (0: any free port).",
)
@click.option(
    "--udp/--no-udp",
    default=True,
    show_default=True,
    help="Run the UDP bridge: devices bound to a real UDP endpoint exchange real datagrams.",
)
@webhook_destinations_option
@webhook_allow_option
@click.option(
    "--demo",
    is_flag=True,
    help="Seed a demo account (Fleets, a few hundred Sims, devices sending traffic) and "
    "print what to try; safe to repeat on the same database.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    envvar="FLEETSIM_LOG_FORMAT",
    default="text",
    show_default=True,
    help="Logs on stderr: text, or one JSON object per line (with the request id).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    envvar="FLEETSIM_LOG_LEVEL",
    default="info",
    show_default=True,
    help="info logs one line per request; warning only problems.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="API processes sharing the port (about one per core); the job worker and the UDP "
    "bridge stay in this supervising process.",
)
def serve(
    host: str,
    port: int,
    database_url: str,
    public_url: str | None,
    seed: int | None,
    clock_mode: str | None,
    clock_start: dt.datetime | None,
    worker: bool,
    job_lease: float,
    udp_port: int,
    udp: bool,
    webhook_destinations: str,
    webhook_allow: tuple[str, ...],
    demo: bool,
    log_format: str,
    log_level: str,
    workers: int,
) -> None:
    """Run the API server (migrates the database first)."""
    import uvicorn

    from fleetsim.http.app import create_app
    from fleetsim.logs import configure_logging

    if workers > 1 and seed is not None:
        raise click.UsageError(
            "--seed makes every API process repeat the same SIDs; use --workers 1"
        )
    check_port_free(host, port)
    configure_logging(log_format, log_level)  # type: ignore[arg-type]
    transport = _webhook_transport(webhook_destinations, webhook_allow)
    engine = _prepare_node(database_url)
    runtime = build_runtime(
        engine,
        clock_mode=clock_mode,  # type: ignore[arg-type]
        clock_start=clock_start.replace(tzinfo=dt.UTC) if clock_start else None,
        seed=seed,
        public_url=public_url,
        transport=transport,
        lease=dt.timedelta(seconds=job_lease),
    )
    bridge = _start_udp_bridge(runtime, udp_port) if udp else None
    if demo:
        from fleetsim.cli.demo import seed_with_progress

        seed_with_progress(runtime)
    startup = ensure_startup_account(engine, clock=runtime.clock, sids=runtime.sids)
    operator_token = ensure_startup_operator(engine, clock=runtime.clock)
    base = public_url or f"http://{host}:{port}"
    if startup is not None and startup.created:
        click.echo("Created an account for this database:")
    if startup is not None:
        click.echo(f"  Account SID: {startup.sid}")
        # Shown once, when made here; a token from the environment is never printed.
        shown = startup.auth_token if startup.created else "(from FLEETSIM_AUTH_TOKEN)"
        click.echo(f"  Auth Token:  {shown}")
    elif not demo:
        click.echo("Accounts exist already; `fleetsim accounts create` makes another.")
    if operator_token is not None:
        click.echo("Control API credentials (shown once; FLEETSIM_OPERATOR_TOKEN sets your own):")
        click.echo(f"  operator:{operator_token}")
    mode = "manual" if hasattr(runtime.clock, "set") else "real"
    click.echo(f"Clock: {mode}, now {runtime.clock.now():%Y-%m-%dT%H:%M:%SZ}")
    click.echo(f"Serving the Super SIM API at {base}/v1 (database: {_safe(database_url)})")
    if webhook_destinations == "public":
        allowed = ", ".join(str(n) for n in transport.policy.allowed) or "none"
        click.echo(f"Webhooks go to public addresses only (also allowed: {allowed})")
    if bridge is not None:
        bridge_host, bridge_port = bridge.address
        click.echo(f"IP Commands over real UDP: the network is at {bridge_host}:{bridge_port}")
    if demo:
        from fleetsim.cli.demo import print_next_steps

        print_next_steps(base)
    background = new_worker(runtime) if worker else None
    server_options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,  # configure_logging's handlers and format
        "log_level": log_level,
        "access_log": False,  # fleetsim.access logs each request, with its id
        "proxy_headers": False,
    }
    try:
        if workers == 1:
            app = create_app(runtime, background_worker=background)
            uvicorn.run(app, **server_options)
        else:
            logs = (log_format, log_level)
            _serve_processes(
                database_url, public_url, job_lease, workers, background, server_options, logs
            )
    finally:
        if bridge is not None:
            bridge.stop()


def _serve_processes(
    database_url: str,
    public_url: str | None,
    job_lease: float,
    workers: int,
    background: Worker | None,
    server_options: dict[str, Any],
    logs: tuple[str, str],
) -> None:
    """Supervise `workers` API processes; this process keeps the job worker (see
    `fleetsim.http.processes`)."""
    import uvicorn

    from fleetsim.http.processes import ProcessOptions

    ProcessOptions(database_url, public_url, job_lease, *logs).to_environment()
    click.echo(
        f"API processes: {workers}; jobs run in this process ({'on' if background else 'off'})"
    )
    if background is not None:
        background.start()
    try:
        uvicorn.run(
            "fleetsim.http.processes:process_app",
            factory=True,
            workers=workers,
            # uvicorn replaces a process that does not answer its ping within this time, and
            # a process answers only once it has imported fleetsim: seconds on a busy machine.
            timeout_worker_healthcheck=60,
            **server_options,
        )
    finally:
        if background is not None:
            background.stop()


def _start_udp_bridge(runtime: Runtime, udp_port: int) -> UdpBridge:
    """The UDP bridge of this server process, started (a clear error if the port is taken)."""
    try:
        return UdpBridge(runtime.engine, runtime.clock, runtime.sids, port=udp_port).start()
    except OSError as exc:
        raise click.ClickException(
            f"Cannot use UDP port {udp_port} on 127.0.0.1 for IP Commands ({exc.strerror}): "
            "choose another with --udp-port, or --no-udp"
        ) from None


@main.command("worker")
@database_option
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@lease_option
@webhook_destinations_option
@webhook_allow_option
def worker_command(
    database_url: str,
    concurrency: int,
    job_lease: float,
    webhook_destinations: str,
    webhook_allow: tuple[str, ...],
) -> None:
    """Run a job worker alone (API nodes then run with --no-worker)."""
    import signal
    import threading

    transport = _webhook_transport(webhook_destinations, webhook_allow)
    engine = _prepare_node(database_url)
    runtime = build_runtime(engine, transport=transport, lease=dt.timedelta(seconds=job_lease))
    worker = new_worker(runtime, concurrency=concurrency)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    worker.start()
    err.print(f"Worker {worker.name} running on {_safe(database_url)}; Ctrl-C stops it.")
    stopped.wait()
    worker.stop()
    err.print("Worker stopped; the jobs it held were handed back.")


def _safe(url: str) -> str:
    """The URL without its password, fit for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@database_option
def migrate(database_url: str) -> None:
    """Bring the database to the newest schema and exit."""
    with _user_errors(), _database(database_url):
        pass
    click.echo(f"Database is up to date: {_safe(database_url)}")


main.add_command(device)
main.add_command(simulate)
main.add_command(esim)
main.add_command(settings_updates)


@main.group()
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
        _user_errors(),
        _database(database_url) as engine,
        unit_of_work(engine, write=True) as session,
    ):
        account = fetch_account(session, account_sid)
        set_event_sink(session, account.id, url, now=SystemClock().now())
    _print_json({"account_sid": account_sid, "event_sink_url": url})


@main.group()
def accounts() -> None:
    """Accounts and subaccounts."""


@accounts.command("create")
@click.option("--friendly-name", default=None)
@click.option("--parent", default=None, help="Account SID of the parent (makes a subaccount).")
@database_option
def accounts_create(friendly_name: str | None, parent: str | None, database_url: str) -> None:
    """Create an account and print it, with its auth token, as JSON."""
    with (
        _user_errors(),
        _database(database_url) as engine,
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
    _print_json(created)


@main.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--account", "account_sid", required=True, help="Account SID the key acts for.")
@click.option("--friendly-name", default=None)
@database_option
def keys_create(account_sid: str, friendly_name: str | None, database_url: str) -> None:
    """Create an API key; its secret is shown only now."""
    with (
        _user_errors(),
        _database(database_url) as engine,
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
    _print_json(key)


@main.group()
def inventory() -> None:
    """Physical SIM cards waiting to be registered."""


@inventory.command("generate")
@click.option("--count", required=True, type=click.IntRange(1, 10_000_000))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--seed", type=int, default=None, help="Make the same cards every time.")
@database_option
def inventory_generate(
    count: int, output: Path | None, seed: int | None, database_url: str
) -> None:
    """Make COUNT new cards, store them, and write iccid,registration_code CSV."""
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    cards = list(generate_cards(count, rng))
    with _database(database_url) as engine:
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
    with _database(database_url) as engine:
        result = _import_with_progress(engine, cards, f"Importing {file.name}")
    err.print(f"{result.added} cards added, {result.already_known} already known")


def _import_with_progress(engine: Any, cards: list[Any], label: str) -> Any:
    with Progress(console=err, transient=False) as progress:
        task = progress.add_task(label, total=len(cards))
        with unit_of_work(engine, write=True) as session:
            return import_cards(
                session,
                cards,
                clock=SystemClock(),
                progress=lambda n: progress.advance(task, n),
            )


@contextmanager
def _database(url: str) -> Iterator[Engine]:
    """A migrated database for one command; its connections close when the command ends."""
    engine = open_database(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _print_json(value: dict[str, Any]) -> None:
    click.echo(json.dumps(value, indent=2))


@contextmanager
def _user_errors() -> Iterator[None]:
    """Show a TwilioError (or a missing secret key) as a one-line message, not a traceback."""
    try:
        yield
    except TwilioError as exc:
        raise click.ClickException(f"{exc.message}. {next_step(exc.code)}") from None
    except SecretKeyError as exc:
        raise click.ClickException(str(exc)) from None


def _prepare_node(database_url: str) -> Engine:
    """The database of a server or worker node, once its secret key is known to be set
    (a node that cannot open the auth tokens must not start)."""
    with _user_errors():
        probe = create_database_engine(database_url)
        try:
            token_box(probe)
        finally:
            probe.dispose()
        return open_database(database_url)
