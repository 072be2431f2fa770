"""`fleetsim serve`, `fleetsim worker` and `fleetsim migrate`: the commands that run a node."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from sqlalchemy import Engine

from fleetsim.app.setup import (
    build_runtime,
    ensure_startup_account,
    ensure_startup_operator,
    new_worker,
)
from fleetsim.cli.common import database, database_option, err, user_errors
from fleetsim.cli.preflight import (
    check_database_folder,
    check_port_free,
    check_startup_credentials,
    open_database,
)
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.secret_key import token_box
from fleetsim.engine.worker import Worker
from fleetsim.http.runtime import Runtime
from fleetsim.resources.ip_commands.udp import UdpBridge
from fleetsim.webhooks.transport import (
    DESTINATIONS_ENV,
    WEBHOOK_ALLOW_ENV,
    DestinationPolicy,
    HttpTransport,
)

__all__ = ["migrate", "serve", "uvicorn_options", "worker_command"]


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


@click.command()
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

    from fleetsim.app.asgi import create_app
    from fleetsim.app.logs import configure_logging

    if workers > 1 and seed is not None:
        raise click.UsageError(
            "--seed makes every API process repeat the same SIDs; use --workers 1"
        )
    check_port_free(host, port)
    check_startup_credentials()
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
    server_options = uvicorn_options(host, port, log_level)
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


def uvicorn_options(host: str, port: int, log_level: str) -> dict[str, Any]:
    """How `serve` runs uvicorn, in one API process or several."""
    from fleetsim.app.http_protocol import HttpProtocol

    return {
        "host": host,
        "port": port,
        "log_config": None,  # configure_logging's handlers and format
        "log_level": log_level,
        "access_log": False,  # fleetsim.access logs each request, with its id
        "proxy_headers": False,
        "http": HttpProtocol,  # a response's head and body in one write
    }


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
    `fleetsim.app.processes`)."""
    import uvicorn

    from fleetsim.app.processes import ProcessOptions

    ProcessOptions(database_url, public_url, job_lease, *logs).to_environment()
    click.echo(
        f"API processes: {workers}; jobs run in this process ({'on' if background else 'off'})"
    )
    if background is not None:
        background.start()
    try:
        uvicorn.run(
            "fleetsim.app.processes:process_app",
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


@click.command("worker")
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


@click.command()
@database_option
def migrate(database_url: str) -> None:
    """Bring the database to the newest schema and exit."""
    with user_errors(), database(database_url):
        pass
    click.echo(f"Database is up to date: {_safe(database_url)}")


def _prepare_node(database_url: str) -> Engine:
    """The database of a server or worker node, once its secret key is known to be set
    (a node that cannot open the auth tokens must not start)."""
    check_database_folder(database_url)
    with user_errors():
        probe = create_database_engine(database_url)
        try:
            token_box(probe)
        finally:
            probe.dispose()
        return open_database(database_url)
