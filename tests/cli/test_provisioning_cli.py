"""`fleetsim esim stock` and `fleetsim settings-updates schedule`, on both backends."""

from __future__ import annotations

import json
import random

from click.testing import CliRunner
from sqlalchemy import Engine, select

from fleetsim.cli.main import main
from fleetsim.core.clock import FrozenClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.store import Tx
from fleetsim.db.tables import Job, SettingsUpdate
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import generate_cards, import_cards
from fleetsim.network.devices import awaiting_attach
from fleetsim.resources.accounts.service import create_account
from fleetsim.resources.esim_profiles.stock import DEFAULT_STOCK
from fleetsim.resources.settings_updates.lifecycle import START
from fleetsim.resources.sims.service import register_sim


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--database-url", database_url])
    return result.exit_code, result.output


def test_esim_stock_shows_and_sets_the_stock(database_url: str) -> None:
    assert run(database_url, "esim", "stock") == (
        0,
        json.dumps({"remaining": DEFAULT_STOCK}, indent=2) + "\n",
    )
    code, out = run(database_url, "esim", "stock", "--set", "3")
    assert (code, json.loads(out)) == (0, {"remaining": 3})
    assert json.loads(run(database_url, "esim", "stock")[1]) == {"remaining": 3}
    code, out = run(database_url, "esim", "stock", "--set", "-1")
    assert code == 2
    assert "--set" in out


def test_settings_updates_schedule_waits_for_the_device(
    database_url: str, engine: Engine, clock: FrozenClock, sids: SidFactory
) -> None:
    (card,) = generate_cards(1, random.Random(5))
    with unit_of_work(engine, write=True) as session:
        import_cards(session, [card], clock=clock)
        account = create_account(session, friendly_name=None, parent=None, clock=clock, sids=sids)
        sim = register_sim(
            Tx.of(session),
            account,
            iccid=card.iccid,
            registration_code=card.registration_code,
            clock=clock,
            sids=sids,
        ).sid
    code, out = run(
        database_url,
        "settings-updates",
        "schedule",
        "--sim",
        sim,
        "--package",
        "apn",
        "--version",
        "2",
    )
    assert code == 0, out
    (update,) = json.loads(out)["settings_updates"]
    assert (update["sim_sid"], update["status"]) == (sim, "scheduled")
    assert update["packages"][-1]["name"] == "apn"
    with unit_of_work(engine, write=False) as session:
        row = session.execute(
            select(SettingsUpdate).where(SettingsUpdate.sid == update["sid"])
        ).scalar_one()
        assert row.outcome == "successful"
        job = session.execute(select(Job).where(Job.kind == START)).scalar_one()
        assert (job.subject, job.due_at, job.state) == (awaiting_attach(sim), None, "pending")

    code, out = run(
        database_url, "settings-updates", "schedule", "--package", "apn", "--version", "2"
    )
    assert code == 1
    assert "Give exactly one of Sim" in out
