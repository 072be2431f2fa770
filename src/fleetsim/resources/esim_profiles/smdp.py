"""The simulated SM-DP+: a device with an eUICC (known by its EID) downloads a reserved
eSIM Profile and installs it.

    available --(download)--> downloaded --(install)--> installed
    available | downloaded --(refused)--> failed    (error_code, error_message)

A device finds its profile either by its EID (profiles reserved with `Eid`) or by the
matching ID of an activation code (profiles reserved with `GenerateMatchingId`). Outcomes:

- the device's EID is not the one a profile was reserved for: the profile `failed`
  (`eid-mismatch`), since its activation code was presented by another eUICC;
- the profile is not `available` (still reserving, or already used): refused, and the
  profile is left as it is (`profile-not-available`);
- the operator set up a failure for the profile (control API): it `failed` with the
  operator's code and message, at the next download or installation.

A refusal is an outcome the answer reports (`downloaded`/`installed` false, `error`), not
an HTTP error, as a rejected attach is. No profile at all for the EID or matching ID: 404.

Deviation: Twilio's error codes for failed profiles are undocumented; the codes above are
fleetsim's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetsim.core.errors import BadRequest, NotFound
from fleetsim.core.sids import Prefix
from fleetsim.db.scoping import find_by_sid, owned
from fleetsim.db.tables import Account, ESimProfile
from fleetsim.resources.esim_profiles.lifecycle import move
from fleetsim.resources.esim_profiles.service import WITH_SIM, check_eid

__all__ = [
    "EID_MISMATCH",
    "INJECTED",
    "NOT_AVAILABLE",
    "SmdpError",
    "SmdpOutcome",
    "download_profile",
    "inject_failure",
    "install_profile",
]

EID_MISMATCH = "eid-mismatch"
NOT_AVAILABLE = "profile-not-available"
INJECTED = "operator-injected"


@dataclass(frozen=True)
class SmdpError:
    code: str
    message: str


@dataclass(frozen=True)
class SmdpOutcome:
    profile: ESimProfile
    error: SmdpError | None


def _fail(profile: ESimProfile, error: SmdpError, *, now: dt.datetime) -> SmdpOutcome:
    move(profile, "failed", now=now)
    profile.error_code = error.code
    profile.error_message = error.message
    return SmdpOutcome(profile, error)


def _injected(profile: ESimProfile) -> SmdpError | None:
    if profile.injected_error_code is None:
        return None
    error = SmdpError(profile.injected_error_code, profile.injected_error_message or "")
    profile.injected_error_code = profile.injected_error_message = None
    return error


def _find_for_download(
    session: Session, account: Account, eid: str, matching_id: str | None
) -> ESimProfile:
    query = owned(ESimProfile, account.id).options(WITH_SIM)
    if matching_id is not None:
        query = query.where(ESimProfile.matching_id == matching_id)
        missing = f"/esim/{eid}/download (no eSIM Profile has the matching ID {matching_id})"
    else:
        # The profile reserved for this EID that is ready, else its newest one.
        query = query.where(ESimProfile.eid == eid).order_by(
            (ESimProfile.status == "available").desc(), ESimProfile.id.desc()
        )
        missing = f"/esim/{eid}/download (no eSIM Profile is reserved for this EID)"
    found = session.execute(query.limit(1)).scalar_one_or_none()
    if found is None:
        raise NotFound(missing)
    return found


def download_profile(
    session: Session,
    account: Account,
    eid: str,
    *,
    matching_id: str | None,
    now: dt.datetime,
) -> SmdpOutcome:
    """The eUICC `eid` downloads its profile (by EID, or by the activation code's matching
    ID): `downloaded`, or refused (see the module's outcomes)."""
    check_eid("Eid", eid)
    profile = _find_for_download(session, account, eid, matching_id)
    if profile.eid is not None and profile.eid != eid:
        error = SmdpError(
            EID_MISMATCH,
            f"The eSIM Profile is reserved for EID {profile.eid}; EID {eid} presented its "
            "matching ID",
        )
        outcome = _fail(profile, error, now=now) if profile.status == "available" else None
        session.flush()
        return outcome or SmdpOutcome(profile, error)
    if profile.status != "available":
        return SmdpOutcome(
            profile,
            SmdpError(
                NOT_AVAILABLE,
                f"The eSIM Profile is {profile.status}: only an available profile can be "
                "downloaded",
            ),
        )
    injected = _injected(profile)
    if injected is not None:
        outcome = _fail(profile, injected, now=now)
        session.flush()
        return outcome
    move(profile, "downloaded", now=now)
    profile.downloaded_by = eid
    session.flush()
    return SmdpOutcome(profile, None)


def install_profile(
    session: Session,
    account: Account,
    eid: str,
    *,
    profile_sid: str | None,
    now: dt.datetime,
) -> SmdpOutcome:
    """The eUICC `eid` installs the profile it downloaded (the given one, or its latest)."""
    check_eid("Eid", eid)
    query = owned(ESimProfile, account.id).options(WITH_SIM)
    if profile_sid is not None:
        profile = find_by_sid(
            session, ESimProfile, account.id, profile_sid, Prefix.ESIM_PROFILE, WITH_SIM
        )
        if profile is None:
            raise NotFound(f"/ESimProfiles/{profile_sid}")
    else:
        profile = session.execute(
            query.where(ESimProfile.downloaded_by == eid).order_by(ESimProfile.id.desc()).limit(1)
        ).scalar_one_or_none()
        if profile is None:
            raise BadRequest(
                f"The eUICC {eid} has downloaded no eSIM Profile: download one first "
                f"(POST /esim/{eid}/download)"
            )
    if profile.status != "downloaded" or profile.downloaded_by != eid:
        return SmdpOutcome(
            profile,
            SmdpError(
                NOT_AVAILABLE,
                f"The eSIM Profile is {profile.status} and was not downloaded by EID {eid}: "
                "only a profile this eUICC downloaded can be installed",
            ),
        )
    injected = _injected(profile)
    if injected is not None:
        outcome = _fail(profile, injected, now=now)
        session.flush()
        return outcome
    move(profile, "installed", now=now)
    session.flush()
    return SmdpOutcome(profile, None)


def inject_failure(session: Session, sid: str, *, code: str, message: str) -> ESimProfile:
    """Make the profile's next download or installation fail (the operator's test hook)."""
    profile = session.execute(
        select(ESimProfile).where(ESimProfile.sid == sid).options(WITH_SIM)
    ).scalar_one_or_none()
    if profile is None:
        raise NotFound(f"/control/esim/profiles/{sid}")
    if profile.status in ("installed", "failed"):
        raise BadRequest(f"The eSIM Profile {sid} is {profile.status}: nothing is left to fail")
    profile.injected_error_code = code
    profile.injected_error_message = message
    session.flush()
    return profile
