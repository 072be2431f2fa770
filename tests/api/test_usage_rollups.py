"""The usage rollups never drift from the hours: after device traffic (at once and spread
over an hour boundary, on two networks, with a Fleet change mid-day) and `fleetsim
simulate` writing into the same hours and Fleets, every day and Fleet rollup equals the
sum of its hours, computed here; and migration 0004's backfill rebuilds the same rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from alembic import command
from sqlalchemy import Engine, select

from fleetsim.core.sids import SidFactory
from fleetsim.db.migrate import alembic_config, upgrade
from fleetsim.db.tables import Account, UsageDay, UsageFleetDay, UsageFleetHour, UsageHour
from fleetsim.db.uow import unit_of_work
from fleetsim.simulation.generator import create_sims, fleet_places, simulate_usage
from tests.api.conftest import Api
from tests.api.network_fixtures import advance
from tests.api.test_usage_records import at, build

Totals = dict[tuple[Any, ...], tuple[int, int]]


def _sum(rows: list[Any], key: Any) -> Totals:
    totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        total = totals[key(row)]
        total[0] += row.upload
        total[1] += row.download
    return {k: (up, down) for k, (up, down) in totals.items()}


def _stored(session: Any, table: Any, key: Any) -> Totals:
    rows = session.execute(select(table)).scalars().all()
    stored = {key(r): (r.upload, r.download) for r in rows}
    assert len(stored) == len(rows), f"{table.__tablename__} repeats a key"
    return stored


def rollups(engine: Engine) -> dict[str, Totals]:
    """Each rollup as stored, and as summed here from `usage_hours`, side by side."""
    with unit_of_work(engine, write=False) as session:
        hours = session.execute(select(UsageHour)).scalars().all()

        def day(r: Any) -> dt.datetime:
            return dt.datetime(r.hour.year, r.hour.month, r.hour.day, tzinfo=dt.UTC)

        def in_day(r: Any) -> tuple[Any, ...]:
            return (r.account_id, r.sim_id, r.fleet_id, r.network_id, r.iso_country, day(r))

        def fleet_hour(r: Any) -> tuple[Any, ...]:
            return (r.account_id, r.fleet_id, r.network_id, r.iso_country, r.hour)

        def fleet_day(r: Any) -> tuple[Any, ...]:
            return (r.account_id, r.fleet_id, r.network_id, r.iso_country, day(r))

        return {
            "days": _stored(
                session,
                UsageDay,
                lambda r: (r.account_id, r.sim_id, r.fleet_id, r.network_id, r.iso_country, r.day),
            ),
            "days from hours": _sum(list(hours), in_day),
            "fleet hours": _stored(
                session,
                UsageFleetHour,
                lambda r: (r.account_id, r.fleet_id, r.network_id, r.iso_country, r.hour),
            ),
            "fleet hours from hours": _sum(list(hours), fleet_hour),
            "fleet days": _stored(
                session,
                UsageFleetDay,
                lambda r: (r.account_id, r.fleet_id, r.network_id, r.iso_country, r.day),
            ),
            "fleet days from hours": _sum(list(hours), fleet_day),
            "sim sids": dict(
                session.execute(select(UsageDay.sim_id, UsageDay.sim_sid).distinct()).all()
            ),
        }


def simulate(api: Api, start: str, hours: int) -> int:
    """`fleetsim simulate` for 5 new Sims in fleet-0 from `start`; the bytes it wrote."""
    with unit_of_work(api.engine, write=True) as session:
        account = session.execute(
            select(Account).where(Account.sid == api.creds.account_sid)
        ).scalar_one()
        fleet, places = fleet_places(session, account, "fleet-0")
        targets = create_sims(session, account, fleet, 5, at=at(start), sids=SidFactory())
        ids = (account.id, fleet.id)
    totals = simulate_usage(
        api.engine,
        *ids,
        targets,
        places,
        start=at(start),
        hours=hours,
        profile="bursty",
        seed=5,
        offline_share=0.0,
        batch_rows=40,
    )
    return totals.upload + totals.download


def test_every_rollup_is_the_sum_of_its_hours_after_mixed_writes(api: Api) -> None:
    scenario = build(api)
    sim = scenario.sims[1]
    # Spread over 90 minutes across an hour boundary: counted window by window.
    spread = api.post(
        f"/devices/{sim}/data", data={"Upload": "9000", "Download": "6001", "Over": "5400"}
    )
    assert spread.status_code == 200, spread.text
    advance(api, 5400)
    # The generator writes into hours and Fleet rows the devices wrote too.
    simulated = simulate(api, "2026-02-01T00:00:00Z", 96)
    sent = sum(u.upload + u.download for u in scenario.uses) + 15_001

    online = rollups(api.engine)
    assert online["days"] == online["days from hours"]
    assert online["fleet hours"] == online["fleet hours from hours"]
    assert online["fleet days"] == online["fleet days from hours"]
    assert sum(up + down for up, down in online["days"].values()) == sent + simulated
    assert len({key[2] for key in online["fleet days"]}) == 2, "both Fleets have usage"
    assert len(online["sim sids"]) == 2 + 5

    # Rebuilt from the hours by migration 0004 (down to 0003, then up again): the same.
    config = alembic_config()
    with api.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    upgrade(api.engine)
    backfilled = rollups(api.engine)
    for name in ("days", "fleet hours", "fleet days", "sim sids"):
        assert backfilled[name] == online[name], name
