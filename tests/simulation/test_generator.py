"""`fleetsim simulate`: the generator's totals are what the database and UsageRecords show,
on both backends."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from fleetsim.cli.main import main
from fleetsim.core.clock import FrozenClock
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import SidFactory
from fleetsim.db.store import Tx
from fleetsim.db.tables import (
    Account,
    Network,
    Sim,
    UsageHour,
)
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import Card, import_cards, new_cards
from fleetsim.resources.accounts.service import create_account
from fleetsim.resources.fleets.service import NewFleet, create_fleet
from fleetsim.resources.network_access_profiles.service import create_network_access_profile
from fleetsim.resources.usage_records.service import UsageFilters, list_usage_records
from fleetsim.simulation.generator import (
    Totals,
    create_sims,
    fleet_places,
    parse_duration,
    simulate_usage,
)

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOURS = 48


@dataclass(frozen=True)
class World:
    account_sid: str
    network_ids: frozenset[int]


def world(engine: Engine, networks: int = 3) -> World:
    clock, sids = FrozenClock(START), SidFactory()
    with unit_of_work(engine, write=True) as session:
        account = create_account(session, friendly_name=None, parent=None, clock=clock, sids=sids)
        rows = session.execute(select(Network.id, Network.sid).limit(networks)).all()
        create_network_access_profile(
            Tx.of(session),
            account,
            unique_name="eu",
            networks=[r[1] for r in rows],
            clock=clock,
            sids=sids,
        )
        create_fleet(
            Tx.of(session),
            account,
            fleet=NewFleet(network_access_profile="eu", unique_name="trucks"),
            clock=clock,
            sids=sids,
        )
        create_network_access_profile(
            Tx.of(session), account, unique_name="empty", networks=[], clock=clock, sids=sids
        )
        create_fleet(
            Tx.of(session),
            account,
            fleet=NewFleet(network_access_profile="empty", unique_name="nowhere"),
            clock=clock,
            sids=sids,
        )
        return World(account.sid, frozenset(int(r[0]) for r in rows))


def run(
    engine: Engine, w: World, *, sims: int = 20, seed: int = 7, offline_share: float = 0.25
) -> Totals:
    with unit_of_work(engine, write=True) as session:
        account = session.execute(select(Account).where(Account.sid == w.account_sid)).scalar_one()
        fleet, places = fleet_places(session, account, "trucks")
        targets = create_sims(session, account, fleet, sims, at=START, sids=SidFactory())
        ids = (account.id, fleet.id)
    return simulate_usage(
        engine,
        *ids,
        targets,
        places,
        start=START,
        hours=HOURS,
        profile="mixed",
        seed=seed,
        offline_share=offline_share,
        batch_rows=100,
    )


def test_usage_hours_hold_exactly_what_the_generator_decided(engine: Engine) -> None:
    w = world(engine)
    totals = run(engine, w)
    with unit_of_work(engine, write=False) as session:
        up, down, rows = session.execute(
            select(func.sum(UsageHour.upload), func.sum(UsageHour.download), func.count())
        ).one()
        assert (up, down, rows) == (totals.upload, totals.download, totals.rows)
        assert totals.upload > 0
        assert totals.download > 0
        assert totals.sims == 20
        assert totals.sim_hours == 20 * HOURS
        networks = set(session.execute(select(UsageHour.network_id).distinct()).scalars())
        assert networks <= w.network_ids
        first, last = session.execute(
            select(func.min(UsageHour.hour), func.max(UsageHour.hour))
        ).one()
        assert first >= START
        assert last < START + dt.timedelta(hours=HOURS)
        per_sim = dict(
            session.execute(
                select(Sim.sid, func.sum(UsageHour.upload + UsageHour.download))
                .join(Sim, Sim.id == UsageHour.sim_id)
                .group_by(Sim.sid)
            ).all()
        )
        statuses = set(session.execute(select(Sim.status)).scalars())
    assert statuses == {"active"}
    assert per_sim == {sid: up + down for sid, (up, down) in totals.per_sim.items() if up + down}


def test_usage_records_agree_with_the_generator(engine: Engine) -> None:
    w = world(engine)
    totals = run(engine, w)
    with unit_of_work(engine, write=False) as session:
        account = session.execute(select(Account).where(Account.sid == w.account_sid)).scalar_one()
        page = list_usage_records(
            session,
            account,
            filters=UsageFilters(
                fleet="trucks", start_time=START, end_time=START + dt.timedelta(hours=HOURS)
            ),
            page=PageRequest(),
            now=START + dt.timedelta(hours=HOURS),
        )
    [record] = page.items
    assert (record.upload, record.download) == (totals.upload, totals.download)


def test_each_sims_hours_add_up_to_what_the_generator_decided(engine: Engine) -> None:
    """Per Sim and hour, as UsageRecords reads the bulk-written hours back."""
    w = world(engine)
    totals = run(engine, w, sims=6, offline_share=0.0)
    end = START + dt.timedelta(hours=HOURS)
    with unit_of_work(engine, write=False) as session:
        account = session.execute(select(Account).where(Account.sid == w.account_sid)).scalar_one()
        for sid, (up, down) in totals.per_sim.items():
            page = list_usage_records(
                session,
                account,
                filters=UsageFilters(sim=sid, granularity="hour", start_time=START, end_time=end),
                page=PageRequest(page_size=HOURS),
                now=end,
            )
            assert len(page.items) == HOURS
            assert sum(r.upload for r in page.items) == up > 0
            assert sum(r.download for r in page.items) == down > 0


def test_the_same_seed_gives_the_same_usage(engine: Engine) -> None:
    w = world(engine)
    first, second, other = run(engine, w), run(engine, w), run(engine, w, seed=8)
    assert list(first.per_sim.values()) == list(second.per_sim.values())
    assert (first.upload, first.download) == (second.upload, second.download)
    assert (first.upload, first.download) != (other.upload, other.download)


def test_an_offline_share_leaves_sims_without_usage(engine: Engine) -> None:
    w = world(engine)
    none_off = run(engine, w, sims=40, offline_share=0.0)
    half_off = run(engine, w, sims=40, offline_share=0.5)
    assert none_off.silent_sims == 0
    assert 5 <= half_off.silent_sims <= 35
    with unit_of_work(engine, write=False) as session:
        used = set(
            session.execute(
                select(Sim.sid).join(UsageHour, UsageHour.sim_id == Sim.id).distinct()
            ).scalars()
        )
    silent = {sid for sid, (up, down) in half_off.per_sim.items() if up == down == 0}
    assert silent
    assert not silent & used


def test_durations() -> None:
    assert [parse_duration(t) for t in ("36h", "31d", "2w")] == [36, 744, 336]


def test_the_command_prints_a_summary_and_errors_say_what_to_do(
    database_url: str, engine: Engine
) -> None:
    w = world(engine)
    base = ["simulate", "--database-url", database_url, "--account", w.account_sid]
    ok = CliRunner().invoke(
        main, [*base, "--sims", "5", "--fleet", "trucks", "--duration", "1d", "--seed", "3"]
    )
    assert ok.exit_code == 0, ok.output
    assert "Sims:          5" in ok.stdout
    assert "Sim-hours:     120" in ok.stdout
    assert "Samples/s:" in ok.stdout
    cases = [
        (["--fleet", "nope", "--duration", "1d"], "no Fleet 'nope'"),
        (["--fleet", "nowhere", "--duration", "1d"], "has no networks"),
        (["--fleet", "trucks", "--duration", "1x"], "is not a span"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(main, [*base, "--sims", "2", *args])
        assert result.exit_code == 1
        assert message in result.stderr
    wrong = ["simulate", "--database-url", database_url, "--account", "AC" + "0" * 32]
    result = CliRunner().invoke(main, [*wrong, "--sims", "2", "--fleet", "x", "--duration", "1d"])
    assert result.exit_code == 1
    assert "no account" in result.stderr


def test_cards_the_warehouse_holds_are_passed_over(engine: Engine) -> None:
    """A random ICCID may be one the warehouse holds under another registration code: the
    generator draws another card rather than fail to register it."""
    w = world(engine)
    first = next(new_cards(random.Random(3)))
    held = Card(first.iccid, "HELD000000")
    with unit_of_work(engine, write=True) as session:
        import_cards(session, [held], clock=FrozenClock(START))
        account = session.execute(select(Account).where(Account.sid == w.account_sid)).scalar_one()
        fleet, _ = fleet_places(session, account, "trucks")
        targets = create_sims(
            session, account, fleet, 3, at=START, sids=SidFactory(), cards=random.Random(3)
        )
        iccids = set(
            session.scalars(select(Sim.iccid).where(Sim.id.in_([t.sim_id for t in targets])))
        )
    assert len(targets) == 3
    assert len(iccids) == 3
    assert held.iccid not in iccids
