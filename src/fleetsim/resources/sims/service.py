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

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

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
from fleetsim.db.integrity import UniqueRule, flush_unique, unique_errors
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import find_by_ref, owned
from fleetsim.db.tables import Account, Device, Fleet, Job, Sim, SimCard, SimStatusEvent
from fleetsim.engine.policies import due_at
from fleetsim.resources.fleets.service import find_fleet
from fleetsim.resources.naming import clean_unique_name
from fleetsim.resources.settings_updates.packages import record_factory_settings
from fleetsim.resources.sims.lifecycle import (
    completion_job_values,
    plan_update,
    scheduled_values,
)

__all__ = [
    "SimChanges",
    "SimUpdate",
    "fetch_sim",
    "find_sim",
    "ip_addresses",
    "list_sims",
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
    return find_by_ref(session, Sim, account.id, ref, Prefix.SIM, _WITH_FLEET)


def fetch_sim(session: Session, account: Account, ref: str) -> Sim:
    sim = find_sim(session, account, ref)
    if sim is None:
        raise NotFound(f"/Sims/{ref}")
    return sim


def register_sim(
    session: Session,
    account: Account,
    *,
    iccid: str,
    registration_code: str,
    clock: Clock,
    sids: SidFactory,
) -> Sim:
    """Claim a physical card for `account`; the Sim starts `new`, in no Fleet, with the
    base settings package the card was made with."""
    (sim,) = register_sims(
        session, account, cards=[(iccid, registration_code)], clock=clock, sids=sids
    )
    return sim


def register_sims(
    session: Session,
    account: Account,
    *,
    cards: Sequence[tuple[str, str]],
    clock: Clock,
    sids: SidFactory,
) -> list[Sim]:
    """`register_sim` for many cards (ICCID, registration code) at once, in a few
    statements; the first card refused refuses them all."""
    for iccid, registration_code in cards:
        for name, value in (("Iccid", iccid), ("RegistrationCode", registration_code)):
            if not value.strip():
                raise SimRegistrationParameterMissing(name)
    iccids = [iccid for iccid, _ in cards]
    cards_made = select(SimCard.iccid, SimCard.registration_code, SimCard.date_created)
    known = {
        card.iccid: card for card in session.execute(cards_made.where(SimCard.iccid.in_(iccids)))
    }
    holders = {
        sim.iccid: sim
        for sim in session.execute(select(Sim).where(Sim.iccid.in_(iccids))).scalars()
    }
    for iccid, registration_code in cards:
        card = known.get(iccid)
        if card is None or not _same_code(registration_code, card.registration_code):
            raise SimNotRegistrable()
        holder = holders.get(iccid)
        if holder is not None:
            if holder.account_id == account.id:
                raise SimAlreadyRegistered(holder.sid)
            raise SimNotRegistrable()
    now = clock.now()
    rows = [
        {
            "sid": sids.new(Prefix.SIM),
            "account_id": account.id,
            "iccid": iccid,
            "unique_name": None,
            "status": "new",
            "fleet_id": None,
            "date_created": now,
            "date_updated": now,
            "fleet_change_pending": False,
        }
        for iccid in iccids
    ]
    session.flush()
    # Bulk statements, not one per row: the benchmark loader registers a million cards.
    # Two accounts racing for one card: the database lets one win.
    with unique_errors([("sims", ("iccid",), SimNotRegistrable)]):
        # Rows come back in any order (asking for the given order costs one statement
        # per row on SQLite): each is matched to its card by ICCID.
        by_iccid = {sim.iccid: sim for sim in session.scalars(insert(Sim).returning(Sim), rows)}
    sims = [by_iccid[iccid] for iccid in iccids]
    for sim in sims:
        set_committed_value(sim, "fleet", None)
    # Plain inserts of rows the ORM need not track (fewer steps per row).
    connection = session.connection()
    connection.execute(
        insert(SimStatusEvent),
        [{"sim_id": s.id, "status": "new", "fleet_id": None, "occurred_at": now} for s in sims],
    )
    connection.execute(
        insert(Device),
        [
            {
                "sim_id": sim.id,
                "imei": imei_for(sim.id),
                "state": "detached",
                "session_upload": 0,
                "session_download": 0,
                "data_blocked": False,
            }
            for sim in sims
        ],
    )
    made = [(sim, known[sim.iccid].date_created) for sim in sims]
    record_factory_settings(session, made, sids=sids)
    return sims


def _same_code(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip().upper().encode(), expected.upper().encode())


def list_sims(
    session: Session,
    account: Account,
    *,
    status: str | None,
    fleet: str | None,
    iccid: str | None,
    page: PageRequest,
) -> Page[Sim]:
    """Sims, filtered; a Fleet that does not resolve matches no Sim."""
    query = owned(Sim, account.id).options(_WITH_FLEET)
    if status is not None:
        query = query.where(Sim.status == status)
    if fleet is not None:
        found = find_fleet(session, account, fleet)
        query = query.where(Sim.fleet_id == (found.id if found else -1))
    if iccid is not None:
        query = query.where(Sim.iccid == iccid)
    return fetch_page(session, query, Sim.id, page)


@dataclass(frozen=True)
class SimUpdate:
    sim: Sim
    owner: Account
    # True when part of the update completes later (the API answers 202).
    scheduled: bool


def update_sim(
    session: Session, account: Account, ref: str, *, changes: SimChanges, clock: Clock
) -> SimUpdate:
    """Update a Sim: name, owner and Fleet of a new Sim at once; status changes, and Fleet
    changes of a ready or active Sim, through `scheduled` (see `lifecycle`)."""
    sim = fetch_sim(session, account, ref)
    now = clock.now()
    owner = account
    if changes.account_sid is not None:
        owner = _transfer_target(session, account, changes.account_sid)
        if owner.id != account.id:
            if sim.status != "new":
                raise SimStatusChangeRefused("only a Sim in status new can move to another account")
            sim.account_id = owner.id
            sim.fleet = None
    fleet_given = changes.fleet is not None
    fleet = _target_fleet(session, owner, changes.fleet) if changes.fleet is not None else sim.fleet
    fleet_id = fleet.id if fleet is not None else None
    plan = plan_update(
        sim.status, sim.fleet_id, status=changes.status, fleet_given=fleet_given, fleet_id=fleet_id
    )
    if plan.fleet_now:
        sim.fleet = fleet
    if changes.unique_name is not None:
        sim.unique_name = clean_unique_name(changes.unique_name, Prefix.SIM)
    if plan.scheduled:
        scheduled = scheduled_values(
            sim.status,
            plan,
            fleet_id,
            callback_url=changes.callback_url,
            callback_method=changes.callback_method,
        )
        for column, value in scheduled.items():
            setattr(sim, column, value)
        job = completion_job_values(sim.id, sim.sid, due_at=due_at(session, "sim", now), now=now)
        session.add(Job(**job))
    sim.date_updated = now
    flush_unique(session, [_unique_name_rule(changes.unique_name or sim.unique_name)])
    return SimUpdate(sim, owner, plan.scheduled)


def _target_fleet(session: Session, account: Account, ref: str) -> Fleet | None:
    if ref == "":
        return None
    fleet = find_fleet(session, account, ref)
    if fleet is None:
        raise SimFleetNotFound(ref)
    return fleet


def _transfer_target(session: Session, account: Account, account_sid: str) -> Account:
    if not is_sid(account_sid, Prefix.ACCOUNT):
        raise InvalidParameter(
            "AccountSid", "must be an Account SID (AC followed by 32 hex digits)"
        )
    sid = canonical_sid(account_sid, Prefix.ACCOUNT)
    if sid == account.sid:
        return account
    target = session.execute(
        select(Account).where(
            Account.sid == sid, Account.parent_id == account.id, Account.status == "active"
        )
    ).scalar_one_or_none()
    if target is None:
        raise InvalidParameter(
            "AccountSid", "must be the SID of your account or of one of its subaccounts"
        )
    return target


def ip_addresses(session: Session, sim: Sim) -> list[str]:
    """The Sim's addresses: its device's, while attached."""
    address = session.execute(
        select(Device.ip_address).where(Device.sim_id == sim.id, Device.state == "attached")
    ).scalar_one_or_none()
    return [address] if address else []
