"""Fleets: the configuration (data limit, commands, network profile) shared by their Sims.

Deviations (Twilio's answers are unconfirmed): a duplicate UniqueName answers 409/20409;
a NetworkAccessProfile that does not resolve answers 400/20001 naming the parameter;
DataLimit outside 1–2,000,000 MB answers 400/20001; DataEnabled and SmsCommandsEnabled,
which Twilio fixes at creation, are refused on update with 400/20001 rather than ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload

from fleetsim.billing.periods import fleet_limit_changed
from fleetsim.core.clock import Clock
from fleetsim.core.errors import Conflict, InvalidParameter, NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory, canonical_sid, is_sid
from fleetsim.db.integrity import UniqueRule
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import find_by_ref, owned
from fleetsim.db.store import Lookup, Tx, detached
from fleetsim.db.tables import Account, Fleet, NetworkAccessProfile, Sim, SimStatusEvent, UsageHour
from fleetsim.resources.naming import clean_unique_name
from fleetsim.resources.network_access_profiles.service import find_network_access_profile

__all__ = [
    "FleetChanges",
    "NewFleet",
    "create_fleet",
    "delete_fleet",
    "fetch_fleet",
    "find_fleet",
    "list_fleets",
    "new_fleet_values",
    "update_fleet",
]

DATA_LIMIT_MIN = 1
DATA_LIMIT_MAX = 2_000_000
DEFAULT_DATA_LIMIT = 1000  # MB; Twilio's docs disagree (250 vs 1000), its fixtures say 1000


@dataclass(frozen=True)
class NewFleet:
    network_access_profile: str
    unique_name: str | None = None
    data_enabled: bool = True
    data_limit: int = DEFAULT_DATA_LIMIT
    sms_commands_enabled: bool = True
    sms_commands_url: str | None = None
    sms_commands_method: str = "POST"
    ip_commands_url: str | None = None
    ip_commands_method: str = "POST"


@dataclass(frozen=True)
class FleetChanges:
    """Fields to change; None leaves a field as it is, "" clears a URL or name."""

    unique_name: str | None = None
    network_access_profile: str | None = None
    data_limit: int | None = None
    sms_commands_url: str | None = None
    sms_commands_method: str | None = None
    ip_commands_url: str | None = None
    ip_commands_method: str | None = None


def _unique_name_rule(unique_name: str | None) -> UniqueRule:
    return (
        "fleets",
        ("account_id", "unique_name"),
        lambda: Conflict(f"A Fleet with UniqueName '{unique_name}' already exists"),
    )


_WITH_PROFILE = joinedload(Fleet.network_access_profile)


def find_fleet(session: Session, account: Account, ref: str) -> Fleet | None:
    return find_by_ref(session, Fleet, account.id, ref, Prefix.FLEET, _WITH_PROFILE)


def fetch_fleet(session: Session, account: Account, ref: str) -> Fleet:
    fleet = find_fleet(session, account, ref)
    if fleet is None:
        raise NotFound(f"/Fleets/{ref}")
    return fleet


def _no_profile(ref: str) -> InvalidParameter:
    return InvalidParameter(
        "NetworkAccessProfile", f"no Network Access Profile '{ref}' in this account"
    )


def _data_limit(value: int) -> int:
    if not DATA_LIMIT_MIN <= value <= DATA_LIMIT_MAX:
        raise InvalidParameter(
            "DataLimit", f"must be between {DATA_LIMIT_MIN} and {DATA_LIMIT_MAX} (megabytes)"
        )
    return value


def create_fleet(
    tx: Tx, account: Account, *, fleet: NewFleet, clock: Clock, sids: SidFactory
) -> Fleet:
    """A new Fleet of the account, on one of its Network Access Profiles.

    A profile given by SID is found by the insert itself (`Tx.insert`'s `lookup`): one
    statement, on PostgreSQL one round trip without BEGIN and COMMIT, where a read and an
    insert were two. One given by unique name is read first, for the SID the answer
    shows."""
    ref = fleet.network_access_profile
    prefix = Prefix.NETWORK_ACCESS_PROFILE
    lookup = None
    if is_sid(ref, prefix):
        profile = detached(NetworkAccessProfile, {"id": None, "sid": canonical_sid(ref, prefix)})
        attribute = "network_access_profile_id"
        lookup = Lookup(
            attribute, "network_access_profiles", account.id, ref, prefix, lambda: _no_profile(ref)
        )
    else:
        found = tx.by_ref("network_access_profiles", "id, sid", account.id, ref, prefix)
        if found is None:
            raise _no_profile(ref)
        profile = detached(NetworkAccessProfile, {"id": found[0], "sid": found[1]})
    values = new_fleet_values(account.id, fleet, profile, now=clock.now(), sids=sids)
    rule = _unique_name_rule(fleet.unique_name)
    return tx.insert(Fleet, values, rule, last=True, lookup=lookup)


def new_fleet_values(
    account_id: int,
    fleet: NewFleet,
    profile: NetworkAccessProfile,
    *,
    now: dt.datetime,
    sids: SidFactory,
) -> dict[str, Any]:
    """The row of a new Fleet, checked."""
    unique_name = clean_unique_name(fleet.unique_name, Prefix.FLEET)
    data_limit = _data_limit(fleet.data_limit)
    return {
        "sid": sids.new(Prefix.FLEET),
        "account_id": account_id,
        "unique_name": unique_name,
        "network_access_profile_id": profile.id,
        "network_access_profile": profile,
        "data_enabled": fleet.data_enabled,
        "data_limit": data_limit,
        "data_metering": "payg",
        "sms_commands_enabled": fleet.sms_commands_enabled,
        "sms_commands_url": fleet.sms_commands_url or None,
        "sms_commands_method": fleet.sms_commands_method,
        "ip_commands_url": fleet.ip_commands_url or None,
        "ip_commands_method": fleet.ip_commands_method,
        "date_created": now,
        "date_updated": now,
    }


def list_fleets(
    session: Session, account: Account, *, network_access_profile: str | None, page: PageRequest
) -> Page[Fleet]:
    """Fleets, optionally of one profile (a profile that does not resolve matches none)."""
    query = owned(Fleet, account.id).options(_WITH_PROFILE)
    if network_access_profile is not None:
        profile = find_network_access_profile(session, account, network_access_profile)
        query = query.where(Fleet.network_access_profile_id == (profile.id if profile else -1))
    return fetch_page(session, query, Fleet.id, page)


def update_fleet(
    tx: Tx, account: Account, ref: str, *, changes: FleetChanges, clock: Clock
) -> Fleet:
    """Change a Fleet; a new data limit is applied to each of its Sims once it has
    propagated (the `data_limit` policy; see fleetsim.billing.periods)."""
    fleet = tx.load_by_ref(Fleet, account.id, ref, Prefix.FLEET, lock=True)
    if fleet is None:
        raise NotFound(f"/Fleets/{ref}")
    now = clock.now()
    values: dict[str, Any] = {}
    if changes.unique_name is not None:
        values["unique_name"] = clean_unique_name(changes.unique_name, Prefix.FLEET)
    profile = None
    if changes.network_access_profile is not None:
        profile = _profile_ref(tx, account, changes.network_access_profile)
        values["network_access_profile_id"] = profile.id
    limit_changed = changes.data_limit is not None and changes.data_limit != fleet.data_limit
    if changes.data_limit is not None:
        values["data_limit"] = _data_limit(changes.data_limit)
    if changes.sms_commands_url is not None:
        values["sms_commands_url"] = changes.sms_commands_url or None
    if changes.sms_commands_method is not None:
        values["sms_commands_method"] = changes.sms_commands_method
    if changes.ip_commands_url is not None:
        values["ip_commands_url"] = changes.ip_commands_url or None
    if changes.ip_commands_method is not None:
        values["ip_commands_method"] = changes.ip_commands_method
    values["date_updated"] = now
    tx.update(Fleet, values, _unique_name_rule(changes.unique_name), id=fleet.id)
    if limit_changed:
        changed = tx.session.get(Fleet, fleet.id)
        assert changed is not None
        fleet_limit_changed(tx.session, changed, now=now)
    if profile is None:
        profile_id = fleet.network_access_profile_id
        (profile_sid,) = tx.one(_PROFILE_SID_SQL, (profile_id,)) or (None,)
        profile = detached(NetworkAccessProfile, {"id": profile_id, "sid": profile_sid})
    fleet.__dict__.update(values, network_access_profile=profile)
    return fleet


_PROFILE_SID_SQL = "SELECT sid FROM network_access_profiles WHERE id = ?"


def _profile_ref(tx: Tx, account: Account, ref: str) -> NetworkAccessProfile:
    """The account's Network Access Profile `ref` (its id and SID); 400 naming it otherwise."""
    prefix = Prefix.NETWORK_ACCESS_PROFILE
    found = tx.by_ref("network_access_profiles", "id, sid", account.id, ref, prefix)
    if found is None:
        raise _no_profile(ref)
    return detached(NetworkAccessProfile, {"id": found[0], "sid": found[1]})


def delete_fleet(session: Session, account: Account, ref: str) -> None:
    """Delete a Fleet that no Sim is in (or moving to).

    Deviation: Twilio's API cannot delete a Fleet; its console can, only while no Super
    SIM is assigned. fleetsim also keeps a Fleet that data was used in (UsageRecords are
    reported per Fleet): 409/20409 says so.
    """
    fleet = fetch_fleet(session, account, ref)
    assigned = session.execute(
        select(Sim.id)
        .where(or_(Sim.fleet_id == fleet.id, Sim.target_fleet_id == fleet.id))
        .limit(1)
    ).first()
    if assigned is not None:
        raise Conflict(
            f"Fleet {fleet.sid} still has Super SIMs assigned: move them to another Fleet first"
        )
    used = session.execute(select(UsageHour.id).where(UsageHour.fleet_id == fleet.id).limit(1))
    if used.first() is not None:
        raise Conflict(f"Fleet {fleet.sid} has usage records (data was used in it), so it is kept")
    # Status history outlives the Fleet: past entries keep their status, not the Fleet.
    session.execute(
        update(SimStatusEvent).where(SimStatusEvent.fleet_id == fleet.id).values(fleet_id=None)
    )
    session.delete(fleet)
    session.flush()
