"""An eSIM Profile's reservation, driven by the engine:

    new --(delay)--> reserving --(delay)--> available

Each step falls due by the `esim_profile` progression policy (with `manual`, the control
API progresses it as `/control/lifecycles/esim_profile/<ESimProfileSid>/progress`). At
`available` the SM-DP+ has made the profile: a new card (a fresh ICCID in the warehouse,
as `fleetsim inventory` makes them) is registered to the account as a Sim in status `new`,
and the profile gets its `iccid`, `sim_sid` and `smdp_plus_address`; with
GenerateMatchingId also a `matching_id` and an `activation_code`. Then the profile's
CallbackUrl is called (signed, as every callback).

After that the device side (`smdp`) moves it to `downloaded` and `installed`, or `failed`.

Deviations (Twilio does not document these): the callback's parameters (`AccountSid`,
`ESimProfileSid`, `Status`, `SimSid`, `Iccid`, `Eid`, `SmdpPlusAddress`, `MatchingId`,
`ActivationCode`, `DateUpdated`; empty when unset) are fleetsim's choice; as Twilio's spec
says, it is called only on `reserving` -> `available`.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fleetsim.core.clock import Clock
from fleetsim.core.dates import iso
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, ESimProfile, Sim
from fleetsim.engine.jobs import schedule
from fleetsim.engine.policies import due_at
from fleetsim.engine.worker import JobContext, JobHandler, transactional
from fleetsim.inventory.service import generate_cards, import_cards
from fleetsim.resources.sims.service import register_sim
from fleetsim.webhooks.service import enqueue_webhook

__all__ = [
    "JOB_HANDLERS",
    "MAKE_AVAILABLE",
    "RESERVE",
    "SMDP_PLUS_ADDRESS",
    "activation_code",
    "callback_params",
    "schedule_step",
]

RESERVE = "esim_profile.reserve"
MAKE_AVAILABLE = "esim_profile.make_available"
# Twilio's SM-DP+ (as its fixtures show it: a host name, no scheme).
SMDP_PLUS_ADDRESS = "sm-dp-plus.twilio.com"
_MATCHING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"reserving"}),
    "reserving": frozenset({"available"}),
    "available": frozenset({"downloaded", "failed"}),
    "downloaded": frozenset({"installed", "failed"}),
    "installed": frozenset(),
    "failed": frozenset(),
}


def move(profile: ESimProfile, status: str, *, now: dt.datetime) -> None:
    """Change the profile's status along the lifecycle (anything else is a bug)."""
    if status not in TRANSITIONS[profile.status]:
        raise ValueError(f"an eSIM Profile cannot go from {profile.status} to {status}")
    profile.status = status
    profile.date_updated = now


def schedule_step(session: Session, profile: ESimProfile, kind: str, *, now: dt.datetime) -> None:
    """The job of the profile's next reservation step, due by the `esim_profile` policy."""
    schedule(
        session,
        kind,
        {"esim_profile_id": profile.id},
        due_at=due_at(session, "esim_profile", now),
        now=now,
        subject=profile.sid,
    )


def activation_code(address: str, matching_id: str) -> str:
    """The code a device scans (GSMA SGP.22 format 1): `1$<SM-DP+ address>$<matching ID>`."""
    return f"1${address.upper()}${matching_id}"


def _matching_id(rng: random.Random) -> str:
    return "-".join("".join(rng.choice(_MATCHING_ALPHABET) for _ in range(5)) for _ in range(5))


def _rng(sids: SidFactory) -> random.Random:
    # Randomness comes from the one SID factory: a seeded server makes the same cards.
    return random.Random(int(sids.new(Prefix.ESIM_PROFILE)[2:], 16))


def callback_params(profile: ESimProfile, account_sid: str) -> list[tuple[str, str]]:
    sim = profile.sim
    return [
        ("AccountSid", account_sid),
        ("ESimProfileSid", profile.sid),
        ("Status", profile.status),
        ("SimSid", sim.sid if sim else ""),
        ("Iccid", profile.iccid or ""),
        ("Eid", profile.eid or ""),
        ("SmdpPlusAddress", profile.smdp_plus_address or ""),
        ("MatchingId", profile.matching_id or ""),
        ("ActivationCode", profile.activation_code or ""),
        ("DateUpdated", iso(profile.date_updated)),
    ]


def _load(session: Session, payload: dict[str, object]) -> ESimProfile | None:
    return session.execute(
        select(ESimProfile)
        .where(ESimProfile.id == payload["esim_profile_id"])
        .options(joinedload(ESimProfile.sim))
    ).scalar_one_or_none()


def _reserve(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    profile = _load(session, payload)
    if profile is None or profile.status != "new":
        return
    now = context.clock.now()
    move(profile, "reserving", now=now)
    schedule_step(session, profile, MAKE_AVAILABLE, now=now)
    session.flush()


def _make_card(session: Session, rng: random.Random, clock: Clock) -> tuple[str, str]:
    """A new card in the warehouse, made as `fleetsim inventory generate` makes them."""
    while True:
        cards = list(generate_cards(1, rng))
        if import_cards(session, cards, clock=clock).added == 1:
            return cards[0].iccid, cards[0].registration_code


def _make_available(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    profile = _load(session, payload)
    if profile is None or profile.status != "reserving":
        return
    now = context.clock.now()
    account = session.execute(select(Account).where(Account.id == profile.account_id)).scalar_one()
    rng = _rng(context.sids)
    iccid, code = _make_card(session, rng, context.clock)
    sim = register_sim(
        Tx.of(session),
        account,
        iccid=iccid,
        registration_code=code,
        clock=context.clock,
        sids=context.sids,
    )
    profile.sim = session.get(Sim, sim.id)
    profile.iccid = sim.iccid
    profile.smdp_plus_address = SMDP_PLUS_ADDRESS
    if profile.generate_matching_id:
        profile.matching_id = _matching_id(rng)
        profile.activation_code = activation_code(SMDP_PLUS_ADDRESS, profile.matching_id)
    move(profile, "available", now=now)
    if profile.callback_url:
        enqueue_webhook(
            Tx.of(session),
            account,
            kind="esim_profile.status",
            url=profile.callback_url,
            method=profile.callback_method or "POST",
            params=callback_params(profile, account.sid),
            subject=profile.sid,
            now=now,
        )
    session.flush()


JOB_HANDLERS: dict[str, JobHandler] = {
    RESERVE: transactional(_reserve),
    MAKE_AVAILABLE: transactional(_make_available),
}
