"""Sims: registering cards to an account, naming them, assigning Fleets, moving them.

Deviations (Twilio's answers are unconfirmed): a card held by another account answers
83002 like an unknown card, so registration never reveals who holds a card; moving a Sim
to an account that is neither the requester nor one of its subaccounts answers 400/20001;
moving a Sim that is not `new` answers 83010; a moved Sim leaves its Fleet unless `Fleet`
in the same request names one of the target account.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fleetsim.core.clock import Clock
from fleetsim.core.errors import (
    InvalidParameter,
    NotFound,
    SimAlreadyRegistered,
    SimFleetNotFound,
    SimNotRegistrable,
    SimRegistrationParameterMissing,
    SimStatusChangeRefused,
    SimUniqueNameTaken,
)
from fleetsim.core.iccid import imei_for
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory, canonical_sid, is_sid
from fleetsim.db.integrity import UniqueRule
from fleetsim.db.paging import Page
from fleetsim.db.scoping import find_by_ref
from fleetsim.db.store import Tx, stored_datetime
from fleetsim.db.tables import Account, Device, Job, Sim, SimStatusEvent
from fleetsim.engine.policies import due_at
from fleetsim.resources.naming import clean_unique_name
from fleetsim.resources.settings_updates.packages import record_factory_settings
from fleetsim.resources.sims import store
from fleetsim.resources.sims.lifecycle import (
    completion_job_values,
    plan_update,
    scheduled_values,
)
from fleetsim.resources.sims.store import SimView

__all__ = [
    "SimChanges",
    "SimUpdate",
    "SimView",
    "fetch_sim",
    "find_sim",
    "ip_addresses",
    "list_sims",
    "load_sim",
    "register_sim",
    "register_sims",
    "update_sim",
]

_WITH_FLEET = joinedload(Sim.fleet)


@dataclass(frozen=True)
class SimChanges:
    """Fields to change; None leaves a field as it is. `fleet=""` removes the Fleet."""

    unique_name: str | None = None
    fleet: str | None = None
    account_sid: str | None = None
    status: str | None = None
    callback_url: str | None = None
    callback_method: str | None = None


def _unique_name_rule(unique_name: str | None) -> UniqueRule:
    return ("sims", ("account_id", "unique_name"), lambda: SimUniqueNameTaken(str(unique_name)))


def find_sim(session: Session, account: Account, ref: str) -> Sim | None:
    """The account's Sim as an ORM row, for rules written with the ORM."""
    return find_by_ref(session, Sim, account.id, ref, Prefix.SIM, _WITH_FLEET)


def load_sim(session: Session, account: Account, ref: str) -> Sim:
    """`find_sim`, or 404 naming the Sim."""
    sim = find_sim(session, account, ref)
    if sim is None:
        raise NotFound(f"/Sims/{ref}")
    return sim


def fetch_sim(tx: Tx, account: Account, ref: str) -> SimView:
    """The account's Sim by SID or unique name; 404 naming it otherwise."""
    sim = store.find_view(tx, account.id, ref)
    if sim is None:
        raise NotFound(f"/Sims/{ref}")
    return sim


# Each card asked for, and the Sim that holds it (if any). Names from the code; `marks` is
# one placeholder per card.
_CARDS_SQL = (
    "SELECT c.iccid, c.registration_code, c.date_created, s.account_id, s.sid "
    "FROM sim_cards c LEFT JOIN sims s ON s.iccid = c.iccid WHERE c.iccid IN ({marks})"
)


def register_sim(
    tx: Tx,
    account: Account,
    *,
    iccid: str,
    registration_code: str,
    clock: Clock,
    sids: SidFactory,
) -> SimView:
    """Claim a physical card for `account`; the Sim starts `new`, in no Fleet, with the
    base settings package the card was made with."""
    (sim,) = register_sims(tx, account, cards=[(iccid, registration_code)], clock=clock, sids=sids)
    return sim


def register_sims(
    tx: Tx,
    account: Account,
    *,
    cards: Sequence[tuple[str, str]],
    clock: Clock,
    sids: SidFactory,
) -> list[SimView]:
    """`register_sim` for many cards (ICCID, registration code) at once, the cards and
    their holders read in one statement; the first card refused refuses them all."""
    for iccid, registration_code in cards:
        for name, value in (("Iccid", iccid), ("RegistrationCode", registration_code)):
            if not value.strip():
                raise SimRegistrationParameterMissing(name)
    iccids = tuple(iccid for iccid, _ in cards)
    marks = ", ".join("?" * len(iccids))
    made = {row[0]: row for row in tx.all(_CARDS_SQL.format(marks=marks), iccids)}
    # Read once: a write through the Tx of a session expires the rows the session holds.
    account_id = account.id
    for iccid, registration_code in cards:
        card = made.get(iccid)
        if card is None or not _same_code(registration_code, card[1]):
            raise SimNotRegistrable()
        holder_account, holder_sid = card[3], card[4]
        if holder_sid is not None:
            if holder_account == account_id:
                raise SimAlreadyRegistered(holder_sid)
            raise SimNotRegistrable()
    now = clock.now()
    views = []
    for iccid in iccids:
        sid = sids.new(Prefix.SIM)
        values = {
            "sid": sid,
            "account_id": account_id,
            "iccid": iccid,
            "unique_name": None,
            "status": "new",
            "fleet_id": None,
            "date_created": now,
            "date_updated": now,
        }
        # Two accounts racing for one card: the database lets one win.
        sim_id = tx.insert_id(Sim, values, ("sims", ("iccid",), SimNotRegistrable))
        views.append(SimView(sim_id, sid, None, iccid, "new", None, now, now))
    events = [
        {"sim_id": v.id, "status": "new", "fleet_id": None, "occurred_at": now} for v in views
    ]
    tx.insert_many(SimStatusEvent, events)
    devices = [
        {
            "sim_id": view.id,
            "imei": imei_for(view.id),
            "state": "detached",
            "session_upload": 0,
            "session_download": 0,
            "data_blocked": False,
        }
        for view in views
    ]
    tx.insert_many(Device, devices)
    factory = [(view.id, view.iccid, stored_datetime(made[view.iccid][2])) for view in views]
    record_factory_settings(tx, factory, sids=sids)
    return views


def _same_code(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip().upper().encode(), expected.upper().encode())


def list_sims(
    tx: Tx,
    account: Account,
    *,
    status: str | None,
    fleet: str | None,
    iccid: str | None,
    page: PageRequest,
) -> Page[SimView]:
    """Sims, filtered; a Fleet that does not resolve matches no Sim."""
    fleet_id = None
    if fleet is not None:
        found = tx.by_ref("fleets", "id", account.id, fleet, Prefix.FLEET)
        fleet_id = found[0] if found is not None else -1
    filters = {"status": status, "fleet_id": fleet_id, "iccid": iccid}
    return store.page_of_views(tx, account.id, filters, page)


@dataclass(frozen=True)
class SimUpdate:
    sim: SimView
    owner_sid: str
    # True when part of the update completes later (the API answers 202).
    scheduled: bool


def update_sim(
    tx: Tx, account: Account, ref: str, *, changes: SimChanges, clock: Clock
) -> SimUpdate:
    """Update a Sim: name, owner and Fleet of a new Sim at once; status changes, and Fleet
    changes of a ready or active Sim, through `scheduled` (see `lifecycle`). The Sim is
    locked while it changes, so of two changes at once the second sees the first."""
    locked = store.find_locked(tx, account.id, ref)
    if locked is None:
        raise NotFound(f"/Sims/{ref}")
    sim, fleet_id = locked
    now = clock.now()
    values: dict[str, Any] = {}
    owner_id, owner_sid = account.id, account.sid
    fleet_sid = sim.fleet_sid
    target = (fleet_id, fleet_sid) if fleet_id is not None and fleet_sid is not None else None
    if changes.account_sid is not None:
        owner_id, owner_sid = _transfer_target(tx, account, changes.account_sid)
        if owner_id != account.id:
            if sim.status != "new":
                raise SimStatusChangeRefused("only a Sim in status new can move to another account")
            values.update(account_id=owner_id, fleet_id=None)
            target, fleet_sid = None, None
    if changes.fleet is not None:
        target = _target_fleet(tx, owner_id, changes.fleet)
    target_id = target[0] if target is not None else None
    plan = plan_update(
        sim.status,
        fleet_id,
        status=changes.status,
        fleet_given=changes.fleet is not None,
        fleet_id=target_id,
    )
    if plan.fleet_now:
        values["fleet_id"] = target_id
        fleet_sid = target[1] if target is not None else None
    unique_name = sim.unique_name
    if changes.unique_name is not None:
        unique_name = values["unique_name"] = clean_unique_name(changes.unique_name, Prefix.SIM)
    status = sim.status
    if plan.scheduled:
        values.update(
            scheduled_values(
                sim.status,
                plan,
                target_id,
                callback_url=changes.callback_url,
                callback_method=changes.callback_method,
            )
        )
        status = "scheduled"
        job = completion_job_values(sim.id, sim.sid, due_at=due_at(tx, "sim", now), now=now)
        tx.insert_id(Job, job)
    values["date_updated"] = now
    tx.update(Sim, values, _unique_name_rule(unique_name), id=sim.id)
    view = sim._replace(unique_name=unique_name, status=status, fleet_sid=fleet_sid, updated=now)
    return SimUpdate(view, owner_sid, plan.scheduled)


def _target_fleet(tx: Tx, owner_id: int, ref: str) -> tuple[int, str] | None:
    """The Fleet `ref` of the owner (id, SID); None for "" (no Fleet); 400 otherwise."""
    if ref == "":
        return None
    found = tx.by_ref("fleets", "id, sid", owner_id, ref, Prefix.FLEET)
    if found is None:
        raise SimFleetNotFound(ref)
    return found[0], found[1]


_SUBACCOUNT_SQL = "SELECT id, sid FROM accounts WHERE sid = ? AND parent_id = ? AND status = ?"


def _transfer_target(tx: Tx, account: Account, account_sid: str) -> tuple[int, str]:
    if not is_sid(account_sid, Prefix.ACCOUNT):
        raise InvalidParameter(
            "AccountSid", "must be an Account SID (AC followed by 32 hex digits)"
        )
    sid = canonical_sid(account_sid, Prefix.ACCOUNT)
    if sid == account.sid:
        return account.id, account.sid
    target = tx.one(_SUBACCOUNT_SQL, (sid, account.id, "active"))
    if target is None:
        raise InvalidParameter(
            "AccountSid", "must be the SID of your account or of one of its subaccounts"
        )
    return target[0], target[1]


def ip_addresses(session: Session, sim: Sim) -> list[str]:
    """The Sim's addresses: its device's, while attached."""
    address = session.execute(
        select(Device.ip_address).where(Device.sim_id == sim.id, Device.state == "attached")
    ).scalar_one_or_none()
    return [address] if address else []
