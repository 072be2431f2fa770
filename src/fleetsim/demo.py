"""Demo mode (`fleetsim serve --demo`): a realistic account to look at and play with.

The demo account (fixed, published credentials: a local toy, never a real secret) gets two
Network Access Profiles, three Fleets and a few hundred Sims in every status: active Sims
with a week of hourly usage (through `fleetsim.simulation`), devices attached to networks,
Sims just registered (`new`), and Sims on their way to `ready` and `inactive` (through
`scheduled`, completed by the worker a few seconds later).

Traffic in the background is a job, not a thread: `demo.traffic` makes a handful of
attached devices use data (and now and then send an SMS Command), then schedules itself
again. It lives in the database like every job, so any worker runs it, a restart resumes
it, and `POST /control/reset` ends it.

Seeding is idempotent: when the demo Fleets exist it only makes sure the traffic job is
scheduled.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.sids import SidFactory
from fleetsim.db.store import Tx
from fleetsim.db.tables import (
    Account,
    Device,
    Fleet,
    Job,
    Network,
    NetworkAccessProfileNetwork,
    Sim,
)
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.jobs import schedule
from fleetsim.engine.worker import JobContext, JobHandler, transactional
from fleetsim.inventory.service import generate_cards, import_cards
from fleetsim.network import devices
from fleetsim.network.usage import use_data
from fleetsim.resources.accounts.service import ensure_account
from fleetsim.resources.fleets.service import NewFleet, create_fleet
from fleetsim.resources.network_access_profiles.service import create_network_access_profile
from fleetsim.resources.sims.service import SimChanges, register_sim, update_sim
from fleetsim.resources.sms_commands.service import receive_sms_command
from fleetsim.simulation.generator import (
    create_sims,
    fleet_places,
    floor_hour,
    simulate_usage,
)

__all__ = [
    "DEMO_ACCOUNT_SID",
    "DEMO_AUTH_TOKEN",
    "JOB_HANDLERS",
    "DemoSize",
    "DemoSummary",
    "seed_demo",
]

# Published on purpose: the demo runs on a developer's machine, and the README's curl
# lines work as written.
DEMO_ACCOUNT_SID = "AC" + "de" * 16
DEMO_AUTH_TOKEN = "demo" + "0" * 28
TRAFFIC = "demo.traffic"
TRAFFIC_EVERY = dt.timedelta(seconds=20)
_DEVICES_PER_TICK = 8

# (unique name, countries of its NAP's networks, data limit in MB)
_FLEETS = (
    ("demo-trackers", ("DE", "FR", "GB", "NL"), 1000),
    ("demo-meters", ("US", "CA", "MX"), 50),
    ("demo-cameras", ("US", "CA"), 5000),
)


@dataclass(frozen=True)
class DemoSize:
    """How much the demo holds (tests seed a small one)."""

    trackers: int = 150  # active, in demo-trackers
    meters: int = 90  # active, in demo-meters
    new: int = 40  # registered, in no Fleet
    ready: int = 30  # in demo-cameras, new -> ready
    inactive: int = 30  # in demo-cameras, active -> inactive
    attached: int = 60  # devices of active trackers and meters on a network
    history_hours: int = 7 * 24  # hourly usage of the active Sims before now


@dataclass(frozen=True)
class DemoSummary:
    seeded: bool  # False: the demo existed already
    sims: int
    fleets: int
    attached: int


def seed_demo(
    engine: Engine, *, clock: Clock, sids: SidFactory, size: DemoSize | None = None
) -> DemoSummary:
    """Make the demo account and its resources (once), and keep its traffic going."""
    size = size or DemoSize()
    with unit_of_work(engine, write=True) as session:
        account = ensure_account(
            session, sid=DEMO_ACCOUNT_SID, auth_token=DEMO_AUTH_TOKEN, clock=clock
        )
        account.friendly_name = "fleetsim demo account"
        account_id = account.id
        exists = session.execute(
            select(Fleet.id).where(
                Fleet.account_id == account_id, Fleet.unique_name == "demo-trackers"
            )
        ).first()
        if exists is None:
            _profiles_and_fleets(session, account, clock=clock, sids=sids)
    seeded = exists is None
    if seeded:
        _active_sims_with_history(engine, account_id, clock=clock, sids=sids, size=size)
        with unit_of_work(engine, write=True) as session:
            account = session.get_one(Account, account_id)
            _other_statuses(session, account, clock=clock, sids=sids, size=size)
            _attach_devices(session, account, clock=clock, sids=sids, limit=size.attached)
    with unit_of_work(engine, write=True) as session:
        _ensure_traffic(session, account_id, now=clock.now())
        return _summary(session, account_id, seeded)


def _profiles_and_fleets(
    session: Session, account: Account, *, clock: Clock, sids: SidFactory
) -> None:
    for name, countries, limit in _FLEETS:
        networks = session.execute(
            select(Network.sid).where(Network.iso_country.in_(countries)).order_by(Network.id)
        ).scalars()
        chosen = list(networks)[: 2 * len(countries)]
        profile = create_network_access_profile(
            Tx.of(session),
            account,
            unique_name=f"{name}-nap",
            networks=chosen,
            clock=clock,
            sids=sids,
        )
        create_fleet(
            Tx.of(session),
            account,
            fleet=NewFleet(profile.sid, unique_name=name, data_limit=limit),
            clock=clock,
            sids=sids,
        )


def _active_sims_with_history(
    engine: Engine, account_id: int, *, clock: Clock, sids: SidFactory, size: DemoSize
) -> None:
    """Active Sims (activated `size.history_hours` ago) and their hourly usage since."""
    start = floor_hour(clock.now()) - dt.timedelta(hours=size.history_hours)
    for name, count in (("demo-trackers", size.trackers), ("demo-meters", size.meters)):
        with unit_of_work(engine, write=True) as session:
            account = session.get_one(Account, account_id)
            fleet, places = fleet_places(session, account, name)
            targets = create_sims(session, account, fleet, count, at=start, sids=sids)
            fleet_id = fleet.id
        simulate_usage(
            engine,
            account_id,
            fleet_id,
            targets,
            places,
            start=start,
            hours=size.history_hours,
            profile="mixed",
            seed=account_id,
            offline_share=0.1,
        )


def _other_statuses(
    session: Session, account: Account, *, clock: Clock, sids: SidFactory, size: DemoSize
) -> None:
    """Sims `new` (no Fleet), and Sims on their way to `ready` and `inactive`."""
    cards = list(generate_cards(size.new + size.ready, random.Random(7)))
    import_cards(session, cards, clock=clock)
    registered = [
        register_sim(
            Tx.of(session),
            account,
            iccid=card.iccid,
            registration_code=card.registration_code,
            clock=clock,
            sids=sids,
        )
        for card in cards[size.new :]
    ]
    for sim in registered[: size.ready]:
        update_sim(
            Tx.of(session), account, sim.sid, changes=SimChanges(fleet="demo-cameras"), clock=clock
        )
        update_sim(
            Tx.of(session), account, sim.sid, changes=SimChanges(status="ready"), clock=clock
        )
    cameras = session.execute(
        select(Fleet).where(Fleet.account_id == account.id, Fleet.unique_name == "demo-cameras")
    ).scalar_one()
    going = create_sims(session, account, cameras, size.inactive, at=clock.now(), sids=sids)
    for target in going:
        update_sim(
            Tx.of(session), account, target.sid, changes=SimChanges(status="inactive"), clock=clock
        )
    # The `new` Sims: registered last, so their cards stay unregistered until now.
    for card in cards[: size.new]:
        register_sim(
            Tx.of(session),
            account,
            iccid=card.iccid,
            registration_code=card.registration_code,
            clock=clock,
            sids=sids,
        )


def _attach_devices(
    session: Session, account: Account, *, clock: Clock, sids: SidFactory, limit: int
) -> None:
    active = session.execute(
        select(Sim.sid, Fleet.network_access_profile_id)
        .join(Fleet, Sim.fleet_id == Fleet.id)
        .where(Sim.account_id == account.id, Sim.status == "active")
        .where(Fleet.unique_name.in_(["demo-trackers", "demo-meters"]))
        .order_by(Sim.id)
        .limit(limit)
    ).all()
    rng = random.Random(11)
    now = clock.now()
    for sim_sid, profile_id in active:
        networks = session.execute(
            select(Network.sid)
            .join(NetworkAccessProfileNetwork, NetworkAccessProfileNetwork.network_id == Network.id)
            .where(NetworkAccessProfileNetwork.network_access_profile_id == profile_id)
            .order_by(Network.id)
        ).scalars()
        network = rng.choice(list(networks))
        devices.attach(
            session,
            account,
            sim_sid,
            network_sid=network,
            mcc=None,
            mnc=None,
            now=now,
            sids=sids,
        )


def _ensure_traffic(session: Session, account_id: int, *, now: dt.datetime) -> None:
    pending = session.execute(
        select(Job.id).where(Job.kind == TRAFFIC, Job.state.in_(["pending", "running"]))
    ).first()
    if pending is None:
        schedule(session, TRAFFIC, {"account_id": account_id}, due_at=now, now=now)


def _traffic(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    """A few attached devices use data, one may send an SMS Command; then the next tick."""
    session = tx.session
    account = session.get(Account, int(str(payload["account_id"])))
    if account is None:
        return  # the database was reset: the demo ends
    now = context.clock.now()
    attached = session.execute(
        select(Sim.sid)
        .join(Device, Device.sim_id == Sim.id)
        .where(Sim.account_id == account.id, Sim.status == "active", Device.state == "attached")
        .order_by(Sim.id)
    ).scalars()
    sims = list(attached)
    rng = random.Random(now.isoformat())  # repeatable for a given clock time
    for sim_sid in rng.sample(sims, min(len(sims), _DEVICES_PER_TICK)):
        upload, download = rng.randrange(200, 5_000), rng.randrange(500, 50_000)
        use_data(
            session,
            account,
            sim_sid,
            upload=upload,
            download=download,
            over_seconds=0,
            now=now,
            sids=context.sids,
        )
    if sims and rng.random() < 0.3:
        body = rng.choice(["battery 87%", "door open", "temp 21.5C", "heartbeat"])
        receive_sms_command(
            session, account, rng.choice(sims), to="000", body=body, now=now, sids=context.sids
        )
    schedule(session, TRAFFIC, dict(payload), due_at=now + TRAFFIC_EVERY, now=now)


def _summary(session: Session, account_id: int, seeded: bool) -> DemoSummary:
    def count(query: object) -> int:
        return int(session.execute(query).scalar_one())  # type: ignore[call-overload]

    return DemoSummary(
        seeded=seeded,
        sims=count(select(func.count()).select_from(Sim).where(Sim.account_id == account_id)),
        fleets=count(select(func.count()).select_from(Fleet).where(Fleet.account_id == account_id)),
        attached=count(
            select(func.count())
            .select_from(Device)
            .join(Sim, Device.sim_id == Sim.id)
            .where(Sim.account_id == account_id, Device.state == "attached")
        ),
    )


JOB_HANDLERS: dict[str, JobHandler] = {TRAFFIC: transactional(_traffic)}
