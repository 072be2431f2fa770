"""Demo mode: a seeded account with Sims in every status, traffic as a self-renewing job,
and idempotent seeding (a restart finds the demo and seeds nothing twice)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select

from fleetsim.app.setup import job_handlers
from fleetsim.core.clock import FrozenClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.tables import Job, Sim, SmsCommand, UsageHour
from fleetsim.db.uow import unit_of_work
from fleetsim.demo import DEMO_ACCOUNT_SID, TRAFFIC, TRAFFIC_EVERY, DemoSize, seed_demo
from fleetsim.engine.worker import JobContext, Worker
from tests.api.lifecycle_fixtures import RecordingTransport

SMALL = DemoSize(trackers=12, meters=6, new=4, ready=3, inactive=2, attached=10, history_hours=6)


def statuses(engine: Engine) -> dict[str, int]:
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(select(Sim.status, func.count()).group_by(Sim.status)).all()
    return dict(rows)


def traffic_jobs(engine: Engine) -> list[Job]:
    with unit_of_work(engine, write=False) as session:
        query = select(Job).where(Job.kind == TRAFFIC, Job.state == "pending")
        return list(session.execute(query).scalars())


def count(engine: Engine, table: type) -> int:
    with unit_of_work(engine, write=False) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_demo_is_seeded_once_and_its_devices_keep_sending(
    engine: Engine, clock: FrozenClock, sids: SidFactory
) -> None:
    first = seed_demo(engine, clock=clock, sids=sids, size=SMALL)
    seeded = statuses(engine)
    usage_rows = count(engine, UsageHour)
    again = seed_demo(engine, clock=clock, sids=sids, size=SMALL)

    assert (first.seeded, again.seeded) == (True, False)
    assert first.sims == again.sims == sum(seeded.values()) == 12 + 6 + 4 + 3 + 2
    assert (first.fleets, first.attached) == (3, 10)
    assert seeded == {"active": 18, "new": 4, "scheduled": 5}
    assert statuses(engine) == seeded
    assert usage_rows > 0
    (tick,) = traffic_jobs(engine)  # a restart does not start a second stream

    worker = Worker(JobContext(engine, clock, sids), job_handlers(RecordingTransport()))
    clock.advance(dt.timedelta(minutes=2))
    worker.run_until_idle()

    assert statuses(engine) == {"active": 18, "new": 4, "ready": 3, "inactive": 2}
    assert count(engine, UsageHour) > usage_rows
    (following,) = traffic_jobs(engine)
    assert following.id != tick.id
    assert following.due_at == clock.now() + TRAFFIC_EVERY
    with unit_of_work(engine, write=False) as session:
        senders = session.execute(select(SmsCommand.sim_id).distinct()).scalars().all()
        owners = session.execute(select(Sim.account_id).where(Sim.id.in_(senders))).all()
    assert len(set(owners)) <= 1  # any SMS Command came from a demo device
    assert first.sims == count(engine, Sim)
    assert DEMO_ACCOUNT_SID == "AC" + "de" * 16
