"""Data and SMS use by devices, counted where it happens.

Each recorded use of data is attributed, at the clock time it happens, to the Sim's hour
of use (account, Sim, the Fleet it is in then, the device's network and that network's
country, the UTC hour; kept with its rollups by `fleetsim.billing.usage_store`), to the
device's data session counters and to the current billing period, and is reported as a
`data-session.updated` connection event; then the ready thresholds and the data limit
are checked (see `fleetsim.billing.periods`).

Use spread `Over` seconds is cut into windows of one minute from the start (longer for
spreads over a day, so that there are at most 1,440 windows), also cut at every UTC hour
boundary, so a window never straddles two hours. Each window's share (proportional to
its length, in whole bytes, adding up exactly) is counted when the window closes, by a
`usage.window` job due then, in the hour and billing period the window opened in. A
window that closes with the device detached (or on a new data session), its data blocked
or its Sim no longer ready or active drops the rest of the spread.

Deviation: fleetsim's own device API, not Twilio's. A refused use answers 400 (20001,
or 83705 for an inactive Super SIM) with what to do about it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fleetsim.billing import periods
from fleetsim.billing.device_locks import lock_device, locked_device
from fleetsim.billing.usage_store import UsageSample, record_usage
from fleetsim.core.dates import iso
from fleetsim.core.errors import BadRequest, InvalidParameter
from fleetsim.core.sids import SidFactory
from fleetsim.db.store import Tx, stored_datetime
from fleetsim.db.tables import Account, BillingPeriod, Device, Fleet, Network, Sim
from fleetsim.engine.jobs import schedule
from fleetsim.engine.worker import JobContext, JobHandler, transactional
from fleetsim.network.devices import device_of, effective_status, network_of
from fleetsim.network.events import record_event

__all__ = [
    "JOB_HANDLERS",
    "MAX_BYTES",
    "MAX_OVER_SECONDS",
    "USAGE_WINDOW",
    "DataUse",
    "DataUseRefused",
    "record_sms",
    "use_data",
]

USAGE_WINDOW = "usage.window"
MAX_BYTES = 10**12
MAX_OVER_SECONDS = 31 * 86400
MAX_WINDOWS = 1440
_MINUTE = dt.timedelta(minutes=1)
_HOUR = dt.timedelta(hours=1)
_TICK = dt.timedelta(microseconds=1)


class DataUseRefused(BadRequest):
    """The device cannot move data now (400); the message says why and what to do."""


@dataclass(frozen=True)
class DataUse:
    sim: Sim
    device: Device
    network: Network | None
    # Bytes counted at once (none when spread: each window counts as it closes).
    upload: int
    download: int
    ends_at: dt.datetime
    windows: int


@dataclass(frozen=True)
class _Spread:
    start: dt.datetime
    end: dt.datetime
    upload: int
    download: int

    @property
    def step(self) -> dt.timedelta:
        minutes = -(-(self.end - self.start) // (_MINUTE * MAX_WINDOWS))
        return _MINUTE * max(1, minutes)

    def window_end(self, at: dt.datetime) -> dt.datetime:
        step_end = self.start + ((at - self.start) // self.step + 1) * self.step
        next_hour = at.replace(minute=0, second=0, microsecond=0) + _HOUR
        return min(step_end, next_hour, self.end)

    def share(self, total: int, start: dt.datetime, end: dt.datetime) -> int:
        span = (self.end - self.start) // _TICK

        def upto(t: dt.datetime) -> int:
            return total * ((t - self.start) // _TICK) // span

        return upto(end) - upto(start)

    def count(self) -> int:
        at, windows = self.start, 0
        while at < self.end:
            at, windows = self.window_end(at), windows + 1
        return windows


def _bytes(name: str, value: int) -> int:
    if not 0 <= value <= MAX_BYTES:
        raise InvalidParameter(name, f"must be between 0 and {MAX_BYTES} bytes")
    return value


def _refusal(session: Session, sim: Sim, device: Device) -> DataUseRefused | None:
    status = effective_status(sim)
    if status not in ("ready", "active"):
        return DataUseRefused(
            f"The Super SIM is {status}: set its Status to active to use data.",
            code=83705 if status == "inactive" else None,
        )
    if device.state != "attached" or device.network_id is None:
        return DataUseRefused(
            f"The device of Super SIM {sim.sid} is not attached to a network: attach it "
            f"first (POST /devices/{sim.sid}/attach)."
        )
    fleet = session.get(Fleet, sim.fleet_id) if sim.fleet_id is not None else None
    if fleet is None:
        return DataUseRefused("The Super SIM has no Fleet: assign one to use data.")
    if device.data_blocked:
        return DataUseRefused(
            f"Data is blocked: Super SIM {sim.sid} used more than its Fleet's data limit "
            f"({fleet.data_limit} MB) in this billing period. Raise the Fleet's DataLimit, "
            "or wait for the next billing period."
        )
    return None


def use_data(
    session: Session,
    account: Account,
    sim_ref: str,
    *,
    upload: int,
    download: int,
    over_seconds: int,
    now: dt.datetime,
    sids: SidFactory,
) -> DataUse:
    """The device moves `upload` and `download` bytes, at once or spread over time."""
    upload, download = _bytes("Upload", upload), _bytes("Download", download)
    if upload + download == 0:
        raise InvalidParameter("Upload", "give Upload or Download bytes greater than 0")
    if not 0 <= over_seconds <= MAX_OVER_SECONDS:
        raise InvalidParameter("Over", f"must be between 0 and {MAX_OVER_SECONDS} seconds")
    sim, _ = device_of(session, account, sim_ref)
    device = locked_device(session, sim.id)
    assert device is not None
    session.refresh(sim)
    refusal = _refusal(session, sim, device)
    if refusal is not None:
        raise refusal
    network = network_of(session, device)
    assert network is not None
    if over_seconds == 0:
        _record(session, sim, device, network, upload, download, start=now, end=now, sids=sids)
        return DataUse(sim, device, network, upload, download, now, 1)
    spread = _Spread(now, now + dt.timedelta(seconds=over_seconds), upload, download)
    _schedule_window(session, sim, device, spread, now)
    session.flush()
    return DataUse(sim, device, network, 0, 0, spread.end, spread.count())


def _schedule_window(
    session: Session, sim: Sim, device: Device, spread: _Spread, at: dt.datetime
) -> None:
    """The job that counts the window of `spread` opening at `at`, due when it closes."""
    payload = {
        "sim_id": sim.id,
        "data_session_sid": device.data_session_sid,
        "start": spread.start.isoformat(),
        "end": spread.end.isoformat(),
        "upload": spread.upload,
        "download": spread.download,
        "at": at.isoformat(),
    }
    due = spread.window_end(at)
    schedule(session, USAGE_WINDOW, payload, due_at=due, now=at, subject=f"use:{sim.sid}")


def _usage_window(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    sim = session.get(Sim, payload["sim_id"])
    if sim is None:
        return
    device = locked_device(session, sim.id)
    if device is None or device.data_session_sid != payload["data_session_sid"]:
        return  # the device detached (or attached again): the rest of the spread is dropped
    if _refusal(session, sim, device) is not None:
        return
    network = network_of(session, device)
    assert network is not None
    spread = _Spread(
        dt.datetime.fromisoformat(str(payload["start"])),
        dt.datetime.fromisoformat(str(payload["end"])),
        int(str(payload["upload"])),
        int(str(payload["download"])),
    )
    start = dt.datetime.fromisoformat(str(payload["at"]))
    end = spread.window_end(start)
    upload = spread.share(spread.upload, start, end)
    download = spread.share(spread.download, start, end)
    if upload or download:
        _record(
            session, sim, device, network, upload, download, start=start, end=end, sids=context.sids
        )
    if end < spread.end:
        _schedule_window(session, sim, device, spread, end)


def _record(
    session: Session,
    sim: Sim,
    device: Device,
    network: Network,
    upload: int,
    download: int,
    *,
    start: dt.datetime,
    end: dt.datetime,
    sids: SidFactory,
) -> None:
    """Count bytes moved in [start, end] (within one UTC hour) as of `end`."""
    assert sim.fleet_id is not None
    periods.roll_forward(session, sim, at=end, sids=sids)
    period = periods.period_at(session, sim.id, start)
    hour = start.replace(minute=0, second=0, microsecond=0)
    sample = UsageSample(
        sim.account_id,
        sim.id,
        sim.sid,
        sim.fleet_id,
        network.id,
        network.iso_country,
        hour,
        upload,
        download,
    )
    record_usage(session, [sample])
    device.session_upload += upload
    device.session_download += download
    if period is not None:
        period.data_bytes += upload + download
        period.date_updated = end
    record_event(
        session,
        name="data-session.updated",
        sim=sim,
        device=device,
        network=network,
        now=end,
        sids=sids,
        extra={
            "data_session_update_start_time": iso(start),
            "data_session_update_end_time": iso(end),
            "data_upload": upload,
            "data_download": download,
            "data_total": upload + download,
            "data_session_data_upload": device.session_upload,
            "data_session_data_download": device.session_download,
            "data_session_data_total": device.session_upload + device.session_download,
        },
    )
    session.flush()
    periods.check_ready_thresholds(session, sim, now=end, sids=sids)
    periods.evaluate_limit(session, sim, now=end)


# What counting an SMS reads, with the Sim's device locked: its latest billing period
# (`periods.latest_period`), the Sim's status, its device's block and its Fleet's limit.
_SMS_FACTS = (
    "SELECT p.id, p.start_time, p.end_time, p.data_bytes, p.sms_count, s.status, d.data_blocked,"
    " f.data_limit FROM sims s LEFT JOIN devices d ON d.sim_id = s.id"
    " LEFT JOIN fleets f ON f.id = s.fleet_id"
    " LEFT JOIN billing_periods p ON p.id = (SELECT id FROM billing_periods"
    " WHERE sim_id = s.id ORDER BY start_time DESC, id DESC LIMIT 1)"
    " WHERE s.id = ?"
)


def record_sms(tx: Tx, sim_id: int, *, now: dt.datetime, sids: SidFactory) -> None:
    """Count one SMS Command (either direction) toward the Sim's current billing period;
    a ready Sim becomes active at its fifth. A Sim with no current period (new, or
    inactive after its last period ended) counts nothing."""
    lock_device(tx, sim_id)
    facts = tx.one(_SMS_FACTS, (sim_id,))
    assert facts is not None, f"no Sim has the id {sim_id}"
    period_id, start, end, data_bytes, sms_count, status, data_blocked, data_limit = facts
    current = period_id is not None and stored_datetime(start) <= now < stored_datetime(end)
    # Mostly the SMS only counts: its period is current, the Sim is not `ready` (only a
    # ready Sim has thresholds to cross) and its device's block agrees with its use. Else
    # the rules of `periods` (on the ORM) open the periods due, and judge the ready
    # thresholds and the data limit again.
    settled = (
        current
        and status != "ready"
        and periods.over_limit(data_limit, data_bytes) == bool(data_blocked)
    )
    sim = None if settled else tx.session.get(Sim, sim_id)
    if not current:
        assert sim is not None
        period = periods.roll_forward(tx.session, sim, at=now, sids=sids)
        if period is None:
            return
        period_id, sms_count = period.id, period.sms_count
    # The device's lock keeps the count from changing meanwhile. `update` expires only the
    # session's billing periods: a caller's Sim and command stay loaded with their
    # relationships, which could not load again.
    tx.update(BillingPeriod, {"sms_count": sms_count + 1, "date_updated": now}, id=period_id)
    if sim is not None:
        periods.check_ready_thresholds(tx.session, sim, now=now, sids=sids)
        periods.evaluate_limit(tx.session, sim, now=now)


JOB_HANDLERS: dict[str, JobHandler] = {
    USAGE_WINDOW: transactional(_usage_window),
    **periods.JOB_HANDLERS,
}
