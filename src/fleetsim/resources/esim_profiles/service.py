"""eSIM Profiles: reserve one for a device's eUICC (by EID, or for any device with an
activation code), fetch, list. Reservation and what follows are in `lifecycle`.

Deviations (Twilio's answers are unconfirmed): neither `Eid` nor `GenerateMatchingId=true`
answers 400/20001 naming both; an `Eid` must be the 32 digits of a GSMA EID (400/20001
otherwise); a profile starts `new` even with a CallbackUrl (one of Twilio's examples shows
`reserving`); lists are oldest first; the stock is taken at creation and not given back
when a profile fails.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session, joinedload

from fleetsim.core.errors import BadRequest, InvalidParameter, NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import find_by_sid, owned
from fleetsim.db.tables import Account, ESimProfile, Sim
from fleetsim.resources.esim_profiles.lifecycle import RESERVE, schedule_step
from fleetsim.resources.esim_profiles.stock import take_profile

__all__ = [
    "NewESimProfile",
    "check_eid",
    "create_esim_profile",
    "fetch_esim_profile",
    "list_esim_profiles",
]

WITH_SIM = joinedload(ESimProfile.sim)


@dataclass(frozen=True)
class NewESimProfile:
    eid: str | None
    generate_matching_id: bool
    callback_url: str | None = None
    callback_method: str | None = None


def check_eid(name: str, eid: str) -> str:
    """An EID is 32 decimal digits (GSMA SGP.29); refuse (400, naming `name`) others."""
    if not (len(eid) == 32 and eid.isascii() and eid.isdigit()):
        raise InvalidParameter(name, "must be an EID: the 32 digits that identify an eUICC")
    return eid


def create_esim_profile(
    session: Session,
    account: Account,
    *,
    profile: NewESimProfile,
    now: dt.datetime,
    sids: SidFactory,
) -> ESimProfile:
    """Reserve an eSIM Profile from the stock (83500 when none is left); it starts `new`."""
    eid = profile.eid or None
    if eid is None and not profile.generate_matching_id:
        raise BadRequest(
            "Missing required parameter Eid or GenerateMatchingId in the post body: give "
            "the Eid of the eUICC that will claim the profile, or GenerateMatchingId=true "
            "for an activation code any eSIM-capable device can use"
        )
    if eid is not None:
        check_eid("Eid", eid)
    take_profile(session)
    row = ESimProfile(
        sid=sids.new(Prefix.ESIM_PROFILE),
        account_id=account.id,
        eid=eid,
        generate_matching_id=profile.generate_matching_id,
        status="new",
        sim=None,
        callback_url=profile.callback_url or None,
        callback_method=(profile.callback_method or "POST") if profile.callback_url else None,
        date_created=now,
        date_updated=now,
    )
    session.add(row)
    session.flush()
    schedule_step(session, row, RESERVE, now=now)
    return row


def fetch_esim_profile(session: Session, account: Account, sid: str) -> ESimProfile:
    """The account's eSIM Profile by SID."""
    found = find_by_sid(session, ESimProfile, account.id, sid, Prefix.ESIM_PROFILE, WITH_SIM)
    if found is None:
        raise NotFound(f"/ESimProfiles/{sid}")
    return found


def list_esim_profiles(
    session: Session,
    account: Account,
    *,
    eid: str | None,
    sim_sid: str | None,
    status: str | None,
    page: PageRequest,
) -> Page[ESimProfile]:
    """The account's eSIM Profiles, oldest first, filtered."""
    query = owned(ESimProfile, account.id).options(WITH_SIM)
    if eid is not None:
        query = query.where(ESimProfile.eid == eid)
    if sim_sid is not None:
        query = query.join(Sim, Sim.id == ESimProfile.sim_id).where(Sim.sid == sim_sid)
    if status is not None:
        query = query.where(ESimProfile.status == status)
    return fetch_page(session, query, ESimProfile.id, page)
