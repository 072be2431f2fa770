"""Settings Updates: list an account's, and (for the operator) schedule one over the air.

Twilio makes Settings Updates itself; the API only lists them. In fleetsim every Sim gets
the base settings package at manufacture (recorded when the card is registered, see
`packages`), and the operator schedules over-the-air updates of a package for one Sim or
every Sim of a Fleet (control API and CLI); see `lifecycle` for how they progress.

Deviations (Twilio's answers are unconfirmed): lists are oldest first; a `Sim` filter that
names no Super SIM of the account matches nothing; an update's `packages` are the packages
the Sim will have (the last successful update's, with the scheduled package in place of
the one of the same name), fixed when the update is scheduled.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fleetsim.core.errors import BadRequest, InvalidParameter, MissingParameter, NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory, canonical_sid, is_sid
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import find_by_ref
from fleetsim.db.tables import Account, Fleet, SettingsUpdate, Sim
from fleetsim.resources.settings_updates.lifecycle import schedule_start
from fleetsim.resources.settings_updates.packages import (
    BASE_PACKAGE,
    dump_packages,
    load_packages,
    package,
    with_package,
)

__all__ = ["OUTCOMES", "list_settings_updates", "schedule_settings_update"]

OUTCOMES = ("successful", "failed")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_VERSION = re.compile(r"^\d{1,4}(\.\d{1,4}){0,3}$")


def list_settings_updates(
    session: Session,
    account: Account,
    *,
    sim: str | None,
    status: str | None,
    page: PageRequest,
) -> Page[SettingsUpdate]:
    """The account's Sims' Settings Updates, oldest first, filtered."""
    # Scoped through the Sim: an update belongs to whoever holds the Sim now.
    query = (
        select(SettingsUpdate)
        .join(Sim, Sim.id == SettingsUpdate.sim_id)
        .where(Sim.account_id == account.id)
        .options(joinedload(SettingsUpdate.sim))
    )
    if sim is not None:
        # Sims record their factory settings through this package, which therefore sits below
        # the Sims service and finds a Sim through the shared account-scoped look-up.
        found = find_by_ref(session, Sim, account.id, sim, Prefix.SIM)
        query = query.where(SettingsUpdate.sim_id == (found.id if found else -1))
    if status is not None:
        query = query.where(SettingsUpdate.status == status)
    return fetch_page(session, query, SettingsUpdate.id, page)


def _targets(session: Session, sim: str | None, fleet: str | None) -> list[Sim]:
    if (sim is None) == (fleet is None):
        raise BadRequest("Give exactly one of Sim (a Super SIM's SID) or Fleet (a Fleet's SID)")
    if sim is not None:
        if not is_sid(sim, Prefix.SIM):
            raise InvalidParameter("Sim", "must be a Super SIM's SID (HS followed by 32 hex)")
        found = session.execute(
            select(Sim).where(Sim.sid == canonical_sid(sim, Prefix.SIM))
        ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"/control/settings-updates (no Super SIM {sim})")
        return [found]
    assert fleet is not None
    if not is_sid(fleet, Prefix.FLEET):
        raise InvalidParameter("Fleet", "must be a Fleet's SID (HF followed by 32 hex)")
    fleet_id = session.execute(
        select(Fleet.id).where(Fleet.sid == canonical_sid(fleet, Prefix.FLEET))
    ).scalar_one_or_none()
    if fleet_id is None:
        raise NotFound(f"/control/settings-updates (no Fleet {fleet})")
    sims = list(
        session.execute(select(Sim).where(Sim.fleet_id == fleet_id).order_by(Sim.id)).scalars()
    )
    if not sims:
        raise BadRequest(f"Fleet {fleet} has no Super SIMs to update")
    return sims


def _current_packages(session: Session, sim: Sim) -> list[dict[str, object]]:
    latest = session.execute(
        select(SettingsUpdate.packages)
        .where(SettingsUpdate.sim_id == sim.id, SettingsUpdate.status == "successful")
        .order_by(SettingsUpdate.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return load_packages(latest) if latest is not None else [dict(BASE_PACKAGE)]


def schedule_settings_update(
    session: Session,
    *,
    sim: str | None,
    fleet: str | None,
    name: str | None,
    version: str | None,
    outcome: str,
    now: dt.datetime,
    sids: SidFactory,
) -> list[SettingsUpdate]:
    """Schedule an over-the-air update of package `name` to `version` for one Sim or every
    Sim of a Fleet (by SID: the operator is not one account); each waits for its device."""
    if name is None:
        raise MissingParameter("Package")
    if version is None:
        raise MissingParameter("Version")
    if not _NAME.match(name):
        raise InvalidParameter("Package", "must be 1-64 lowercase letters, digits or dashes")
    if not _VERSION.match(version):
        raise InvalidParameter("Version", "must be numbers separated by dots, such as 1.2.0")
    if outcome not in OUTCOMES:
        raise InvalidParameter("Outcome", "must be successful or failed")
    updates = []
    for target in _targets(session, sim, fleet):
        packages = with_package(_current_packages(session, target), package(name, version))
        update = SettingsUpdate(
            sid=sids.new(Prefix.SETTINGS_UPDATE),
            sim=target,
            iccid=target.iccid,
            status="scheduled",
            packages=dump_packages(packages),
            outcome=outcome,
            date_completed=None,
            date_created=now,
            date_updated=now,
        )
        session.add(update)
        session.flush()
        schedule_start(session, update, target.sid, now=now)
        updates.append(update)
    session.flush()
    return updates
