"""`fleetsim simulate`: Sims in a Fleet using data over a span of time, straight into the
database (no server needed), for demos and benchmark data."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from fleetsim.app.setup import build_runtime
from fleetsim.cli.common import database_option
from fleetsim.cli.errors import next_step
from fleetsim.cli.preflight import open_database
from fleetsim.core.errors import TwilioError
from fleetsim.core.sids import SidFactory
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.accounts.service import fetch_account
from fleetsim.simulation.generator import (
    SimulationError,
    Totals,
    create_sims,
    fleet_places,
    floor_hour,
    parse_duration,
    simulate_usage,
)
from fleetsim.simulation.profiles import MIXES

__all__ = ["simulate"]

err = Console(stderr=True)


@click.command()
@database_option
@click.option("--account", "account_sid", required=True, help="Account SID the Sims belong to.")
@click.option("--sims", "count", required=True, type=click.IntRange(1, 10_000_000))
@click.option("--fleet", required=True, help="Fleet SID or unique name; its NAP's networks.")
@click.option("--duration", required=True, help="Span of usage: hours, days or weeks (31d).")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="First hour (UTC, rounded down to the hour); default: the span ends at the "
    "server clock's current hour.",
)
@click.option("--profile", type=click.Choice(sorted(MIXES)), default="mixed", show_default=True)
@click.option("--seed", type=int, default=None, help="Same seed, same usage (printed if unset).")
@click.option(
    "--offline-share",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="Share of devices that stay off the network for the whole span.",
)
def simulate(
    database_url: str,
    account_sid: str,
    count: int,
    fleet: str,
    duration: str,
    start: dt.datetime | None,
    profile: str,
    seed: int | None,
    offline_share: float,
) -> None:
    """Create SIMS active Sims in FLEET and write their hourly usage over DURATION."""
    with _user_errors():
        hours = parse_duration(duration)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    engine = open_database(database_url)
    try:
        if start is None:
            first = floor_hour(build_runtime(engine).clock.now()) - dt.timedelta(hours=hours)
        else:
            first = floor_hour(start.replace(tzinfo=dt.UTC))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        began = time.perf_counter()
        with _user_errors(), Progress(*columns, console=err) as progress:
            setup = progress.add_task("Creating Sims", total=count)
            with unit_of_work(engine, write=True) as session:
                account = _account(session, account_sid)
                fleet_row, places = fleet_places(session, account, fleet)
                targets = create_sims(
                    session,
                    account,
                    fleet_row,
                    count,
                    at=first,
                    sids=SidFactory(),
                    progress=lambda n: progress.advance(setup, n),
                )
                account_id, fleet_id = account.id, fleet_row.id
            usage_began, usage_cpu = time.perf_counter(), time.process_time()
            task = progress.add_task("Generating usage", total=count)
            totals = simulate_usage(
                engine,
                account_id,
                fleet_id,
                targets,
                places,
                start=first,
                hours=hours,
                profile=profile,
                seed=seed,
                offline_share=offline_share,
                progress=lambda n: progress.advance(task, n),
            )
        ended, cpu = time.perf_counter(), time.process_time() - usage_cpu
    finally:
        engine.dispose()
    _summary(totals, first, hours, seed, ended - began, ended - usage_began, cpu)


def _summary(
    totals: Totals,
    first: dt.datetime,
    hours: int,
    seed: int,
    elapsed: float,
    usage: float,
    cpu: float,
) -> None:
    last = first + dt.timedelta(hours=hours)
    rate = totals.sim_hours / usage if usage > 0 else float("inf")
    click.echo(f"Simulated {first:%Y-%m-%dT%H:%M:%SZ} to {last:%Y-%m-%dT%H:%M:%SZ} (seed {seed})")
    click.echo(f"  Sims:          {totals.sims:,} ({totals.silent_sims:,} without usage)")
    click.echo(f"  Sim-hours:     {totals.sim_hours:,}")
    click.echo(f"  Bytes up:      {totals.upload:,}")
    click.echo(f"  Bytes down:    {totals.download:,}")
    click.echo(f"  Rows written:  {totals.rows:,} (usage_hours, plus their rollups)")
    click.echo(f"  Samples/s:     {rate:,.0f} Sim-hours per second of usage generation")
    # On a shared machine the wall-clock rate says more about the neighbours than about
    # fleetsim: the rate per second of this process's CPU is what a quiet core gives.
    cpu_rate = totals.sim_hours / cpu if cpu > 0 else float("inf")
    click.echo(f"  CPU:           {cpu:.2f}s ({cpu_rate:,.0f} Sim-hours per CPU second)")
    click.echo(f"  Elapsed:       {elapsed:.2f}s ({elapsed - usage:.2f}s creating Sims)")


@contextmanager
def _user_errors() -> Iterator[None]:
    """Show what to do next as one line, not a traceback."""
    try:
        yield
    except SimulationError as exc:
        raise click.ClickException(str(exc)) from None
    except TwilioError as exc:
        raise click.ClickException(f"{exc.message}. {next_step(exc.code)}") from None


def _account(session: Session, sid: str) -> Account:
    try:
        return fetch_account(session, sid)
    except TwilioError:
        raise SimulationError(
            f"no account {sid} in this database: give --account an Account SID "
            "(`fleetsim accounts create` makes one)"
        ) from None
