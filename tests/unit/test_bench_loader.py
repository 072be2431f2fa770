"""bench/load_sims.py registers its Sims through the services, in batches: the benchmarks
measure the Sims users would have (`new` ones here; active ones are compared in
tests/api/test_same_rows.py), on both backends."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, select

from fleetsim.core.clock import FrozenClock
from fleetsim.core.iccid import is_valid_iccid
from fleetsim.core.sids import Prefix, SidFactory, is_sid
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, Base, Device, Sim, SimCard, SimStatusEvent
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import Card, generate_cards, import_cards, new_cards
from fleetsim.resources.accounts.service import create_account
from fleetsim.resources.sims.service import fetch_sim, register_sim

LOADER = Path(__file__).resolve().parents[2] / "bench" / "load_sims.py"


def loader() -> ModuleType:
    spec = importlib.util.spec_from_file_location("load_sims", LOADER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def columns(row: Base, *ignored: str) -> dict[str, Any]:
    """The row's column values, without the ones that differ between any two Sims."""
    mapper = row.__mapper__
    return {
        c.key: getattr(row, c.key)
        for c in mapper.column_attrs
        if c.key not in ("id", "sid", "iccid", "sim_id", *ignored)
    }


def test_bulk_loaded_sims_match_registered_ones(
    engine: Engine, clock: FrozenClock, sids: SidFactory
) -> None:
    with unit_of_work(engine, write=True) as session:
        account = create_account(
            session, friendly_name="bench", parent=None, clock=clock, sids=sids
        )
        card = next(generate_cards(1, random.Random(7)))
        import_cards(session, [card], clock=clock)
        registered = register_sim(
            Tx.of(session),
            account,
            iccid=card.iccid,
            registration_code=card.registration_code,
            clock=clock,
            sids=sids,
        )
        # Read before the unit of work ends: writes through a Tx expire the session's rows.
        account_sid = account.sid
    loader().load_sims(engine, account_sid, 3, now=clock.now())

    with unit_of_work(engine, write=False) as session:
        account = session.execute(select(Account).where(Account.sid == account_sid)).scalar_one()
        sims = session.execute(select(Sim).order_by(Sim.id)).scalars().all()
        assert sims[0].id == registered.id
        assert len(sims) == 4
        expected = columns(sims[0])
        for sim in sims[1:]:
            assert is_sid(sim.sid, Prefix.SIM)
            assert is_valid_iccid(sim.iccid)
            assert columns(sim) == expected
            assert fetch_sim(Tx.of(session), account, sim.sid).id == sim.id
            card_row = session.execute(
                select(SimCard).where(SimCard.iccid == sim.iccid)
            ).scalar_one()
            assert card_row.date_created == clock.now()
        for table in (SimStatusEvent, Device):
            rows = session.execute(select(table).order_by(table.sim_id)).scalars().all()
            assert [r.sim_id for r in rows] == [s.id for s in sims]
            assert all(columns(r, "imei") == columns(rows[0], "imei") for r in rows[1:]), (
                table.__tablename__
            )
        imeis = session.execute(select(Device.imei)).scalars().all()
        assert len(set(imeis)) == 4


def test_the_loader_passes_over_cards_the_warehouse_holds(
    engine: Engine, clock: FrozenClock, sids: SidFactory, monkeypatch: Any
) -> None:
    """The bench imports unregistered cards before it loads Sims: a random ICCID of the
    loader's may be one of them, under another registration code."""
    module = loader()
    first = next(new_cards(random.Random(3)))
    with unit_of_work(engine, write=True) as session:
        account_sid = create_account(
            session, friendly_name="bench", parent=None, clock=clock, sids=sids
        ).sid
        import_cards(session, [Card(first.iccid, "HELD000000")], clock=clock)
    monkeypatch.setattr(module, "new_cards", lambda _rng: new_cards(random.Random(3)))
    module.load_sims(engine, account_sid, 3, now=clock.now())

    with unit_of_work(engine, write=False) as session:
        iccids = set(session.scalars(select(Sim.iccid)))
    assert len(iccids) == 3
    assert first.iccid not in iccids
