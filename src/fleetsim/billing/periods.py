"""Billing periods, the data limit, and the automatic `ready -> active`.

Billing periods. A Sim's first period opens when its status first takes effect as `ready`
or `active`, starting then. `ready` and `active` periods run one calendar month: the same
day-of-month and time, clamped to the month's last day (Jan 31 -> Feb 28, or Feb 29 in a
leap year). When a period ends the next opens at once (a `billing.rollover` job due at
its end) unless the Sim is then `inactive`. `ready -> active` closes the ready period at
the transition and opens an `active` one starting then; `inactive -> active` opens a new
`active` period unless one is still current (a Sim made inactive and active again within
a month keeps its period and what it used in it).

Limits. The data limit is per Sim per billing period: upload plus download over the
Fleet's `data_limit` megabytes, 1 MB = 1,000,000 bytes. A Sim whose current period's use
goes over it (strictly more) has its device's data blocked; a change in its Fleet's
DataLimit blocks or unblocks each Sim of the Fleet by the new limit. Both take effect
after the `data_limit` progression policy's delay (Twilio: "typically five minutes or
less", at most 15), at once when that delay is 0; a new billing period unblocks at once.

`ready -> active` happens by itself, at once (not through `scheduled`), when a ready Sim
has used 250,000 bytes of data (250 KB, 1 KB = 1,000 bytes) or 5 SMS Commands in its
ready periods together, or 3 calendar months after it became ready, whichever first;
a status event is written and the periods follow the rule above. The 3-month mark is the
end of the third ready period, so the rollover job due then is the one that activates.

Deviations (Twilio's answers are unconfirmed): successive periods keep the day-of-month
of the first period of their run (Jan 31 -> Feb 29 -> Mar 31 -> Apr 30), rather than
drifting to the 28th; a `ready` period lasts one month like an `active` one (Twilio's
fixture shows one month); use at exactly the limit is not blocked; the use that crosses
250 KB counts in the ready period, and the active period starts empty; a Sim's use is
counted toward the limit even while its block is propagating.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fleetsim.billing.device_locks import lock_device, lock_devices, locked_device
from fleetsim.billing.rates import BYTES_PER_MB
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.store import Tx, stored_datetime
from fleetsim.db.tables import BillingPeriod, Device, Fleet, Job, Sim, SimStatusEvent
from fleetsim.engine.jobs import job_values, pending_for, schedule
from fleetsim.engine.policies import due_at
from fleetsim.engine.worker import JobContext, JobHandler, transactional

__all__ = [
    "APPLY_FLEET_LIMIT",
    "APPLY_LIMIT",
    "JOB_HANDLERS",
    "READY_DATA_BYTES",
    "READY_MONTHS",
    "READY_SMS",
    "ROLLOVER",
    "add_months",
    "check_ready_thresholds",
    "current_period",
    "evaluate_limit",
    "evaluate_limits",
    "fleet_limit_changed",
    "latest_period",
    "limit_bytes",
    "over_limit",
    "period_at",
    "roll_forward",
    "status_took_effect",
    "statuses_took_effect",
]

ROLLOVER = "billing.rollover"
APPLY_LIMIT = "data_limit.apply"
APPLY_FLEET_LIMIT = "data_limit.fleet"
READY_DATA_BYTES = 250_000
READY_SMS = 5
READY_MONTHS = 3
_CONNECTED = frozenset({"ready", "active"})


# --- calendar -------------------------------------------------------------------------


def add_months(value: dt.datetime, months: int) -> dt.datetime:
    """`value` moved by whole calendar months, the day clamped to the month's last day."""
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def _next_boundary(anchor: dt.datetime, after: dt.datetime) -> dt.datetime:
    """The first `anchor + k months` (k >= 1) later than `after`."""
    k = max(1, (after.year - anchor.year) * 12 + after.month - anchor.month - 1)
    while add_months(anchor, k) <= after:
        k += 1
    return add_months(anchor, k)


# --- periods --------------------------------------------------------------------------


def _status(sim: Sim) -> str:
    """The status in force (a `scheduled` Sim keeps its old one until the update ends).

    As `devices.effective_status`, which cannot be imported here: devices imports the Sim
    services, and their lifecycle imports this module."""
    return sim.settled_status or sim.status if sim.status == "scheduled" else sim.status


def latest_period(session: Session, sim_id: int) -> BillingPeriod | None:
    """The Sim's current or most recent billing period (`_latest_periods`), as a row of
    the session, for rules that change it."""
    latest = _latest_periods(Tx.of(session), [sim_id]).get(sim_id)
    return None if latest is None else session.get(BillingPeriod, latest.id)


def current_period(session: Session, sim_id: int, at: dt.datetime) -> BillingPeriod | None:
    return _current(latest_period(session, sim_id), at)


class _Latest(NamedTuple):
    """A Sim's current or most recent billing period, as the rules read it."""

    id: int
    period_type: str
    start_time: dt.datetime
    end_time: dt.datetime
    data_bytes: int


def _latest_periods(tx: Tx, sim_ids: Sequence[int]) -> dict[int, _Latest]:
    """The current or most recent billing period of each of many Sims (those with a
    period), in one statement: the one that started last, the last made of those."""
    marks = ", ".join("?" for _ in sim_ids)
    columns = "sim_id, id, period_type, start_time, end_time, data_bytes"
    sql = f"SELECT {columns} FROM billing_periods WHERE sim_id IN ({marks})"  # noqa: S608
    rows = tx.all(sql, tuple(sim_ids))
    latest: dict[int, _Latest] = {}
    for sim_id, period_id, period_type, start, end, data_bytes in rows:
        period = _Latest(
            period_id, period_type, stored_datetime(start), stored_datetime(end), int(data_bytes)
        )
        known = latest.get(sim_id)
        if known is None or (period.start_time, period.id) > (known.start_time, known.id):
            latest[sim_id] = period
    return latest


_Period = TypeVar("_Period", BillingPeriod, _Latest)


def _current(period: _Period | None, at: dt.datetime) -> _Period | None:
    """`period` if `at` falls in it."""
    return period if period is not None and period.start_time <= at < period.end_time else None


def period_at(session: Session, sim_id: int, at: dt.datetime) -> BillingPeriod | None:
    """The Sim's period that `at` falls in, current or past."""
    return session.execute(
        select(BillingPeriod)
        .where(
            BillingPeriod.sim_id == sim_id,
            BillingPeriod.start_time <= at,
            BillingPeriod.end_time > at,
        )
        .order_by(BillingPeriod.start_time.desc(), BillingPeriod.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _anchor(session: Session, period: BillingPeriod) -> dt.datetime:
    """The start of the run of back-to-back periods of one type that `period` ends."""
    earlier = session.execute(
        select(BillingPeriod.start_time, BillingPeriod.end_time)
        .where(
            BillingPeriod.sim_id == period.sim_id,
            BillingPeriod.period_type == period.period_type,
            BillingPeriod.start_time < period.start_time,
        )
        .order_by(BillingPeriod.start_time.desc())
    ).all()
    start = period.start_time
    for row in earlier:
        if row.end_time != start:
            break
        start = row.start_time
    return start


def _open(
    session: Session,
    sim: Sim,
    period_type: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    sids: SidFactory,
) -> BillingPeriod:
    period = BillingPeriod(
        **_period_values(sim, period_type, start=start, end=end, now=now, sids=sids)
    )
    session.add(period)
    session.add(Job(**_rollover_values(sim, end=end, now=now)))
    session.flush()
    return period


def _open_new(
    session: Session, sim: Sim, period_type: str, *, at: dt.datetime, sids: SidFactory
) -> BillingPeriod:
    return _open(session, sim, period_type, start=at, end=add_months(at, 1), now=at, sids=sids)


def _open_many(
    session: Session, opened: Sequence[tuple[Sim, str]], *, at: dt.datetime, sids: SidFactory
) -> None:
    """`_open_new` for many Sims (each with its period type), in two statements."""
    if not opened:
        return
    end = add_months(at, 1)
    periods = [
        _period_values(sim, period_type, start=at, end=end, now=at, sids=sids)
        for sim, period_type in opened
    ]
    connection = session.connection()
    connection.execute(insert(BillingPeriod), periods)
    connection.execute(insert(Job), [_rollover_values(sim, end=end, now=at) for sim, _ in opened])


def _period_values(
    sim: Sim,
    period_type: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    sids: SidFactory,
) -> dict[str, Any]:
    return {
        "sid": sids.new(Prefix.BILLING_PERIOD),
        "account_id": sim.account_id,
        "sim_id": sim.id,
        "period_type": period_type,
        "start_time": start,
        "end_time": end,
        "data_bytes": 0,
        "sms_count": 0,
        "date_created": now,
        "date_updated": now,
    }


def _rollover_values(sim: Sim, *, end: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    """The job that opens the next period when this one ends."""
    # Not about the Sim's own SID: the control API's "progress" must not run it early.
    return job_values(ROLLOVER, {"sim_id": sim.id}, due_at=end, now=now, subject=f"bill:{sim.sid}")


def roll_forward(
    session: Session, sim: Sim, *, at: dt.datetime, sids: SidFactory
) -> BillingPeriod | None:
    """Open the periods that should have opened by `at`; return the one current then.

    Idempotent: the rollover job, data use and SMS all call it, whichever comes first.
    A connected Sim with no period at all (registered before billing existed) gets one."""
    period = latest_period(session, sim.id)
    if period is None and _status(sim) in _CONNECTED:
        period = _open_new(session, sim, _status(sim), at=at, sids=sids)
    while period is not None and period.end_time <= at and _status(sim) in _CONNECTED:
        if (
            period.period_type == "ready"
            and sim.status == "ready"
            and _months_up(session, sim, period.end_time)
        ):
            period = _activate(session, sim, at=period.end_time, sids=sids)
            continue
        end = _next_boundary(_anchor(session, period), period.end_time)
        period = _open(
            session,
            sim,
            period.period_type,
            start=period.end_time,
            end=end,
            now=period.end_time,
            sids=sids,
        )
        evaluate_limit(session, sim, now=period.start_time, immediate=True)
    if period is None or not period.start_time <= at < period.end_time:
        return None
    return period


def _rollover(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    sim = session.get(Sim, payload["sim_id"])
    if sim is not None:
        lock_device(tx, sim.id)
        roll_forward(session, sim, at=context.clock.now(), sids=context.sids)


def status_took_effect(
    session: Session, sim: Sim, *, previous: str | None, now: dt.datetime, sids: SidFactory
) -> None:
    """Open or switch billing periods when an update's status takes effect (its
    completion), then re-check the ready thresholds and the data limit."""
    statuses_took_effect(session, [(sim, previous)], now=now, sids=sids)


def statuses_took_effect(
    session: Session,
    changes: Sequence[tuple[Sim, str | None]],
    *,
    now: dt.datetime,
    sids: SidFactory,
) -> None:
    """`status_took_effect` for many Sims (each with the status it had before), in a few
    statements for all of them."""
    if not changes:
        return
    sims = [sim for sim, _ in changes]
    tx = Tx.of(session)
    lock_devices(tx, [sim.id for sim in sims])
    latest = _latest_periods(tx, [sim.id for sim in sims])
    opened: list[tuple[Sim, str]] = []
    for sim, previous in changes:
        if sim.status not in _CONNECTED:
            continue
        # Only a Sim that stayed connected has periods to catch up on; one coming back
        # from inactive starts afresh unless its last period is still current.
        period: BillingPeriod | _Latest | None
        if previous in _CONNECTED:
            period = roll_forward(session, sim, at=now, sids=sids)
        else:
            period = _current(latest.get(sim.id), now)
        if period is None:
            opened.append((sim, sim.status))
        elif sim.status == "active" and period.period_type == "ready":
            ready = session.get(BillingPeriod, period.id)  # the switch changes the ORM's row
            assert ready is not None
            _switch_to_active(session, sim, ready, at=now, sids=sids)
    _open_many(session, opened, at=now, sids=sids)
    session.flush()
    for sim in sims:
        check_ready_thresholds(session, sim, now=now, sids=sids)
    evaluate_limits(session, sims, now=now)


# --- ready -> active ------------------------------------------------------------------


def _months_up(session: Session, sim: Sim, at: dt.datetime) -> bool:
    return _ready_months_up(_ready_totals(session, sim.id)[0], at)


def _ready_months_up(start: dt.datetime | None, at: dt.datetime) -> bool:
    return start is not None and at >= add_months(start, READY_MONTHS)


_READY_TOTALS_SQL = (
    "SELECT MIN(start_time), COALESCE(SUM(data_bytes), 0), COALESCE(SUM(sms_count), 0)"
    " FROM billing_periods WHERE sim_id = ? AND period_type = 'ready'"
)


def _ready_totals(session: Session, sim_id: int) -> tuple[dt.datetime | None, int, int]:
    """When the Sim's first ready period began (None: it had none), and the bytes and SMS
    Commands of its ready periods together: one statement."""
    row = Tx.of(session).one(_READY_TOTALS_SQL, (sim_id,))
    assert row is not None  # an aggregate always has its row
    start, data_bytes, sms_count = row
    return None if start is None else stored_datetime(start), int(data_bytes), int(sms_count)


def check_ready_thresholds(
    session: Session, sim: Sim, *, now: dt.datetime, sids: SidFactory
) -> bool:
    """Activate a ready Sim that has reached 250 KB, 5 SMS or 3 months; True if it did.

    A Sim with an update in progress is left to that update, whose completion checks again."""
    if sim.status != "ready":
        return False
    start, data_bytes, sms_count = _ready_totals(session, sim.id)
    if start is None:
        return False
    if data_bytes >= READY_DATA_BYTES or sms_count >= READY_SMS or _ready_months_up(start, now):
        _activate(session, sim, at=now, sids=sids)
        return True
    return False


def _activate(session: Session, sim: Sim, *, at: dt.datetime, sids: SidFactory) -> BillingPeriod:
    sim.status = "active"
    sim.date_updated = at
    session.add(
        SimStatusEvent(sim_id=sim.id, status="active", fleet_id=sim.fleet_id, occurred_at=at)
    )
    period = latest_period(session, sim.id)
    if period is not None and period.period_type == "ready":
        return _switch_to_active(session, sim, period, at=at, sids=sids)
    return _open_new(session, sim, "active", at=at, sids=sids)


def _switch_to_active(
    session: Session, sim: Sim, ready: BillingPeriod, *, at: dt.datetime, sids: SidFactory
) -> BillingPeriod:
    if ready.end_time > at:
        ready.end_time = at
        ready.date_updated = at
    active = _open_new(session, sim, "active", at=at, sids=sids)
    evaluate_limit(session, sim, now=at, immediate=True)
    return active


# --- the data limit -------------------------------------------------------------------


def limit_bytes(fleet: Fleet) -> int:
    return fleet.data_limit * BYTES_PER_MB


def _over_limit(session: Session, sim: Sim, at: dt.datetime) -> bool:
    fleet = session.get(Fleet, sim.fleet_id) if sim.fleet_id is not None else None
    return _over(fleet, current_period(session, sim.id, at))


def _over(fleet: Fleet | None, period: BillingPeriod | _Latest | None) -> bool:
    """Whether `period`'s use is over `fleet`'s limit (no Fleet or period: never)."""
    return over_limit(
        None if fleet is None else fleet.data_limit, None if period is None else period.data_bytes
    )


def over_limit(data_limit: int | None, data_bytes: int | None) -> bool:
    """Whether `data_bytes` used in a period is over a Fleet's DataLimit of `data_limit`
    megabytes (no Fleet or no period: never)."""
    return (
        data_limit is not None and data_bytes is not None and data_bytes > data_limit * BYTES_PER_MB
    )


def evaluate_limit(
    session: Session, sim: Sim, *, now: dt.datetime, immediate: bool = False
) -> None:
    """Block or unblock the Sim's data by its period's use and its Fleet's limit: at once
    (`immediate`, or a policy delay of 0), else by a job after the propagation delay."""
    evaluate_limits(session, [sim], now=now, immediate=immediate)


def evaluate_limits(
    session: Session, sims: Sequence[Sim], *, now: dt.datetime, immediate: bool = False
) -> None:
    """`evaluate_limit` for many Sims, their devices and periods read in two statements."""
    tx = Tx.of(session)
    ids = [sim.id for sim in sims]
    # Every caller holds these locks already (use and periods take them first): read
    # again under them, the devices are as this transaction left them.
    devices = lock_devices(tx, ids)
    latest = _latest_periods(tx, ids) if devices else {}
    for sim in sims:
        device = devices.get(sim.id)
        if device is None:
            continue
        fleet = session.get(Fleet, sim.fleet_id) if sim.fleet_id is not None else None
        blocked = _over(fleet, _current(latest.get(sim.id), now))
        if blocked == device.data_blocked:
            continue
        due = due_at(session, "data_limit", now)
        if immediate or (due is not None and due <= now):
            tx.update(Device, {"data_blocked": blocked}, sim_id=sim.id)
            continue
        payload: dict[str, object] = {"sim_id": sim.id, "blocked": blocked}
        waiting = [job for job in pending_for(session, sim.sid) if job.kind == APPLY_LIMIT]
        if any(_same_payload(job.payload, payload) for job in waiting):
            continue
        schedule(session, APPLY_LIMIT, payload, due_at=due, now=now, subject=sim.sid)


def _same_payload(text: str, payload: dict[str, object]) -> bool:
    loaded: dict[str, object] = json.loads(text)
    return loaded == payload


def _apply_limit(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    """A block or unblock that has propagated: applied if it is still what the use and the
    limit call for (a later change has its own job)."""
    session = tx.session
    sim = session.get(Sim, payload["sim_id"])
    device = locked_device(session, sim.id) if sim is not None else None
    if sim is None or device is None:
        return
    blocked = _over_limit(session, sim, context.clock.now())
    if blocked == payload["blocked"]:
        device.data_blocked = blocked


def fleet_limit_changed(session: Session, fleet: Fleet, *, now: dt.datetime) -> None:
    """The Fleet's DataLimit changed: re-judge its Sims after the propagation delay."""
    due = due_at(session, "data_limit", now)
    if due is not None and due <= now:
        _judge_fleet(session, fleet, now)
        return
    payload = {"fleet_id": fleet.id, "data_limit": fleet.data_limit}
    schedule(session, APPLY_FLEET_LIMIT, payload, due_at=due, now=now, subject=fleet.sid)


def _judge_fleet(session: Session, fleet: Fleet, now: dt.datetime) -> None:
    sims = session.execute(select(Sim).where(Sim.fleet_id == fleet.id).order_by(Sim.id)).scalars()
    for sim in sims:
        device = locked_device(session, sim.id)
        if device is not None:
            device.data_blocked = _over_limit(session, sim, now)
    session.flush()


def _apply_fleet_limit(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    fleet = session.get(Fleet, payload["fleet_id"])
    # A later change of the limit has its own job; this one has nothing left to do.
    if fleet is not None and fleet.data_limit == payload["data_limit"]:
        _judge_fleet(session, fleet, context.clock.now())


JOB_HANDLERS: dict[str, JobHandler] = {
    ROLLOVER: transactional(_rollover),
    APPLY_LIMIT: transactional(_apply_limit),
    APPLY_FLEET_LIMIT: transactional(_apply_fleet_limit),
}
