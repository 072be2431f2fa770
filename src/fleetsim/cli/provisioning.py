"""`fleetsim esim …` and `fleetsim settings-updates …`: the operator's side of eSIM
Profiles and Settings Updates, on the database (as the control API does over HTTP)."""

from __future__ import annotations

import click

from fleetsim.api.settings_updates.wire import render_settings_update
from fleetsim.cli.common import (
    database,
    database_option,
    print_json,
    server_clock,
    user_errors,
)
from fleetsim.core.sids import SidFactory
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.esim_profiles.stock import MAX_STOCK, get_stock, set_stock
from fleetsim.resources.settings_updates.service import OUTCOMES, schedule_settings_update

__all__ = ["esim", "settings_updates"]


@click.group()
def esim() -> None:
    """eSIM Profiles: the SM-DP+'s stock."""


@esim.command("stock")
@click.option(
    "--set",
    "remaining",
    type=click.IntRange(0, MAX_STOCK),
    default=None,
    help="How many profiles can still be reserved (0: creating one answers 83500).",
)
@database_option
def esim_stock(remaining: int | None, database_url: str) -> None:
    """Show (or --set) how many eSIM Profiles can still be reserved."""
    with (
        user_errors(),
        database(database_url) as engine,
        unit_of_work(engine, write=True) as session,
    ):
        value = get_stock(session) if remaining is None else set_stock(session, remaining)
    print_json({"remaining": value})


@click.group("settings-updates")
def settings_updates() -> None:
    """Settings Updates: over-the-air updates of settings packages."""


@settings_updates.command("schedule")
@click.option("--sim", default=None, help="Sim SID to update.")
@click.option("--fleet", default=None, help="Fleet SID: update each of its Sims.")
@click.option("--package", "name", required=True, help="Settings package name, e.g. apn.")
@click.option("--version", required=True, help="Its version, e.g. 1.2.0.")
@click.option("--outcome", type=click.Choice(OUTCOMES), default="successful", show_default=True)
@database_option
def settings_updates_schedule(
    sim: str | None,
    fleet: str | None,
    name: str,
    version: str,
    outcome: str,
    database_url: str,
) -> None:
    """Schedule an update; each waits until its Sim's device attaches."""
    with user_errors(), database(database_url) as engine:
        clock = server_clock(engine)
        with unit_of_work(engine, write=True) as session:
            updates = schedule_settings_update(
                session,
                sim=sim,
                fleet=fleet,
                name=name,
                version=version,
                outcome=outcome,
                now=clock.now(),
                sids=SidFactory(),
            )
            print_json({"settings_updates": [render_settings_update(u) for u in updates]})
