"""The rules of `fleetsim simulate`: Sims made ready to use, and what each device uses.

Every device draws from its own random stream (the run's seed and its position), so a
seed gives the same usage whatever the batching. Per UTC hour a device on the network
reports telemetry (the reports that fall in the hour), may make a burst, may roam to
another network of its Fleet's Network Access Profile, or is off the network (an outage,
or, for `offline_share` of the devices, the whole span). Hours with use become one usage
sample each (a Sim is on one network per hour), written with their rollups by
`billing.usage_store` in batches.

Sims are made through the services, in batches: the cards by `import_cards`, the Sims by
`register_sims`, then `Status=active` in the Fleet by `update_now` (the rules of
`update_sim`, carried out as its job carries them out), all at the start of the span.
ICCIDs come from the `cards` random source, SIDs from the SID factory.

Deviation: usage is written to the usage tables only: billing periods' counters, the data
limit and devices' session counters are not replayed (a simulated Sim is never blocked).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, joinedload

from fleetsim.billing.usage_store import UsageSample, record_usage
from fleetsim.core.clock import FrozenClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, Fleet, Network, NetworkAccessProfileNetwork, Sim
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import Card, import_cards, new_cards, unknown_cards
from fleetsim.resources.fleets.service import find_fleet
from fleetsim.resources.sims.lifecycle import update_now
from fleetsim.resources.sims.service import register_sims
from fleetsim.simulation.profiles import Profile, profile_mix

__all__ = [
    "Place",
    "SimulationError",
    "Target",
    "Totals",
    "add_sims",
    "create_sims",
    "device_hours",
    "fleet_places",
    "floor_hour",
    "parse_duration",
    "simulate_usage",
]

_HOUR = dt.timedelta(hours=1)
_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
_BATCH_ROWS = 50_000
_SIM_BATCH = 2_000


class SimulationError(Exception):
    """A simulation that cannot run; the message says what to do next."""


@dataclass(frozen=True)
class Target:
    """A Sim the simulation drives, by its position in the run."""

    index: int
    sim_id: int
    sid: str


@dataclass(frozen=True)
class Place:
    """A network a device can be on."""

    network_id: int
    iso_country: str


@dataclass
class Totals:
    """What the generator decided the devices used, and what it wrote."""

    sims: int = 0
    sim_hours: int = 0
    upload: int = 0
    download: int = 0
    rows: int = 0
    per_sim: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def silent_sims(self) -> int:
        return sum(1 for up, down in self.per_sim.values() if up == down == 0)


def parse_duration(text: str) -> int:
    """Whole hours in `text` ("36h", "31d", "2w")."""
    match = _DURATION.match(text)
    hours = int(match.group(1)) * _UNIT_HOURS[match.group(2)] if match else 0
    if hours <= 0:
        raise SimulationError(
            f"--duration {text!r} is not a span: give a positive number of hours, days or "
            "weeks, e.g. 36h, 31d or 2w"
        )
    return hours


def floor_hour(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def fleet_places(session: Session, account: Account, ref: str) -> tuple[Fleet, list[Place]]:
    """The Fleet (SID or unique name) and the networks of its Network Access Profile."""
    fleet = find_fleet(session, account, ref)
    if fleet is None:
        raise SimulationError(
            f"no Fleet {ref!r} in account {account.sid}: give a Fleet SID (HF...) or unique "
            "name of this account, or create one with POST /v1/Fleets"
        )
    rows = session.execute(
        select(Network.id, Network.iso_country)
        .join(NetworkAccessProfileNetwork, NetworkAccessProfileNetwork.network_id == Network.id)
        .where(
            NetworkAccessProfileNetwork.network_access_profile_id == fleet.network_access_profile_id
        )
        .order_by(Network.id)
    ).all()
    if not rows:
        nap = fleet.network_access_profile.sid
        raise SimulationError(
            f"Fleet {fleet.sid}'s Network Access Profile {nap} has no networks, so its devices "
            f"have nowhere to connect: add some with POST /v1/NetworkAccessProfiles/{nap}/Networks"
        )
    return fleet, [Place(int(r[0]), str(r[1])) for r in rows]


def create_sims(
    session: Session,
    account: Account,
    fleet: Fleet | None,
    count: int,
    *,
    at: dt.datetime,
    sids: SidFactory,
    cards: random.Random | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> list[Target]:
    """`count` new cards registered to `account` and, given a `fleet`, made active in it
    at `at`, in batches (see `add_sims`)."""
    fresh = new_cards(cards or random.SystemRandom())
    targets: list[Target] = []
    while len(targets) < count:
        batch = unknown_cards(session, fresh, min(_SIM_BATCH, count - len(targets)))
        targets += add_sims(session, account, fleet, batch, at=at, sids=sids, first=len(targets))
        progress(len(batch))
    return targets


def add_sims(
    session: Session,
    account: Account,
    fleet: Fleet | None,
    cards: Sequence[Card],
    *,
    at: dt.datetime,
    sids: SidFactory,
    first: int = 0,
) -> list[Target]:
    """Put `cards` in the warehouse, register them to `account` and, given a `fleet`, make
    them active in it, at `at`, through the services (`first`: the position of the first
    in the run)."""
    clock = FrozenClock(at)
    import_cards(session, list(cards), clock=clock)
    registered = register_sims(
        Tx.of(session),
        account,
        cards=[(c.iccid, c.registration_code) for c in cards],
        clock=clock,
        sids=sids,
    )
    if fleet is not None:
        ids = [sim.id for sim in registered]
        query = select(Sim).where(Sim.id.in_(ids)).order_by(Sim.id).options(joinedload(Sim.fleet))
        sims = list(session.scalars(query))
        update_now(session, sims, status="active", fleet=fleet, now=at, sids=sids)
    session.flush()
    return [Target(first + n, sim.id, sim.sid) for n, sim in enumerate(registered)]


def _pick(rng: random.Random, mix: tuple[tuple[Profile, float], ...]) -> Profile:
    roll = rng.random() * sum(weight for _, weight in mix)
    for profile, weight in mix:
        roll -= weight
        if roll < 0:
            return profile
    return mix[-1][0]


def _reports_before(minute: int, phase: int, interval: int) -> int:
    """Reports at `phase + k * interval` (k >= 0) earlier than `minute`."""
    return (minute - phase + interval - 1) // interval if minute > phase else 0


def device_hours(
    index: int,
    *,
    seed: int,
    mix: tuple[tuple[Profile, float], ...],
    places: int,
    start_hour_of_day: int,
    hours: int,
    offline_share: float,
) -> Iterator[tuple[int, int, int, int]]:
    """(hour offset, place index, upload, download) of each hour device `index` used data."""
    rng = random.Random(f"{seed}:{index}")
    profile = _pick(rng, mix)
    if rng.random() < offline_share:
        return
    interval = rng.choice(profile.telemetry_minutes)
    phase = rng.randrange(interval)
    place = rng.randrange(places)
    roam_rate = 1 / (profile.roam_days * 24)
    outage_rate = 1 / (profile.outage_days * 24)
    next_roam = rng.expovariate(roam_rate)
    next_outage = rng.expovariate(outage_rate)
    outage_end = -1
    up_lo, up_hi = profile.report_upload
    down_lo, down_hi = profile.report_download
    # rng.random() scaled, not rng.randint: the same uniform bytes at a fraction of the
    # cost, in the loop that runs once per device and hour.
    uniform = rng.random
    for h in range(hours):
        if h >= next_roam:
            if places > 1:
                place = (place + rng.randrange(1, places)) % places
            next_roam = h + rng.expovariate(roam_rate)
        if h >= next_outage:
            outage_end = h + rng.randint(*profile.outage_hours)
            next_outage = outage_end + rng.expovariate(outage_rate)
        if h < outage_end:
            continue
        minute = h * 60
        n = _reports_before(minute + 60, phase, interval) - _reports_before(minute, phase, interval)
        up = n * up_lo + int(uniform() * (n * (up_hi - up_lo) + 1)) if n else 0
        down = n * down_lo + int(uniform() * (n * (down_hi - down_lo) + 1)) if n else 0
        chance = profile.burst_chance * (2 if 8 <= (start_hour_of_day + h) % 24 < 20 else 1)
        if uniform() < chance:
            up += rng.randint(*profile.burst_upload)
            down += rng.randint(*profile.burst_download)
        if up or down:
            yield h, place, up, down


def simulate_usage(
    engine: Engine,
    account_id: int,
    fleet_id: int,
    targets: list[Target],
    places: list[Place],
    *,
    start: dt.datetime,
    hours: int,
    profile: str,
    seed: int,
    offline_share: float,
    progress: Callable[[int], None] = lambda _: None,
    batch_rows: int = _BATCH_ROWS,
) -> Totals:
    """Generate and write the usage of `targets` over `hours` from `start` (an hour);
    each batch of rows commits on its own. Returns the totals the generator decided."""
    mix = profile_mix(profile)
    stamps = [start + h * _HOUR for h in range(hours)]
    totals = Totals(sims=len(targets), sim_hours=len(targets) * hours)
    samples: list[UsageSample] = []
    done = 0
    for target in targets:
        sim_up = sim_down = 0
        for h, place, up, down in device_hours(
            target.index,
            seed=seed,
            mix=mix,
            places=len(places),
            start_hour_of_day=start.hour,
            hours=hours,
            offline_share=offline_share,
        ):
            where = places[place]
            samples.append(
                UsageSample(
                    account_id,
                    target.sim_id,
                    target.sid,
                    fleet_id,
                    where.network_id,
                    where.iso_country,
                    stamps[h],
                    up,
                    down,
                )
            )
            sim_up += up
            sim_down += down
        totals.per_sim[target.sid] = (sim_up, sim_down)
        totals.upload += sim_up
        totals.download += sim_down
        done += 1
        if len(samples) >= batch_rows:
            totals.rows += _write(engine, samples)
            samples = []
            progress(done)
            done = 0
    if samples:
        totals.rows += _write(engine, samples)
    progress(done)
    return totals


def _write(engine: Engine, samples: list[UsageSample]) -> int:
    """Write one batch, hours and rollups, in its own transaction (the simulated Sims are
    new, so every (Sim, Fleet, network, hour) is written once)."""
    with unit_of_work(engine, write=True) as session:
        return record_usage(session, samples, new_sims=True)
