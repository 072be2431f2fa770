"""Progression policies: how each lifecycle moves to its next state.

`immediate` completes as soon as a worker picks the job up, `delay` after `delay_seconds`
of server-clock time, `manual` only when the control API says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from fleetsim.core.errors import InvalidParameter
from fleetsim.db.store import Tx
from fleetsim.db.tables import ProgressionPolicy

__all__ = [
    "LIFECYCLES",
    "Policy",
    "due_at",
    "get_policy",
    "reset_policies",
    "set_policy",
]

PolicyName = Literal["immediate", "delay", "manual"]

# Default delays, in seconds of server-clock time.
LIFECYCLES: dict[str, float] = {
    "sim": 3.0,
    "sms_command": 1.0,
    "ip_command": 1.0,
    "data_limit": 0.0,
    "esim_profile": 2.0,
    "settings_update": 5.0,
}


@dataclass(frozen=True)
class Policy:
    lifecycle: str
    policy: PolicyName
    delay_seconds: float


_POLICY_SQL = "SELECT policy, delay_seconds FROM progression_policies WHERE lifecycle = ?"


def get_policy(bind: Tx | Session, lifecycle: str) -> Policy:
    """The policy in force for `lifecycle` (its default delay unless one was set)."""
    if lifecycle not in LIFECYCLES:
        raise InvalidParameter("Lifecycle", f"must be one of {', '.join(sorted(LIFECYCLES))}")
    tx = bind if isinstance(bind, Tx) else Tx.of(bind)
    row = tx.settled(_POLICY_SQL, (lifecycle,))
    if row is None:
        return Policy(lifecycle, "delay", LIFECYCLES[lifecycle])
    return Policy(lifecycle, row[0], float(row[1]))


def set_policy(
    session: Session, lifecycle: str, policy: str, delay_seconds: float | None
) -> Policy:
    current = get_policy(session, lifecycle)
    if policy not in ("immediate", "delay", "manual"):
        raise InvalidParameter("Policy", "must be one of immediate, delay, manual")
    if delay_seconds is None:
        delay_seconds = current.delay_seconds
    if not 0 <= delay_seconds <= 366 * 86400:
        raise InvalidParameter("Delay", "must be between 0 and 31622400 seconds")
    row = session.get(ProgressionPolicy, lifecycle)
    if row is None:
        row = ProgressionPolicy(lifecycle=lifecycle)
        session.add(row)
    row.policy = policy
    row.delay_seconds = delay_seconds
    session.flush()
    return Policy(lifecycle, policy, delay_seconds)  # type: ignore[arg-type]


def reset_policies(session: Session) -> None:
    session.query(ProgressionPolicy).delete()


def due_at(bind: Tx | Session, lifecycle: str, now: dt.datetime) -> dt.datetime | None:
    """When the next step of `lifecycle` is due, started at `now` (None: manual)."""
    return _due_at(get_policy(bind, lifecycle), now)


def _due_at(policy: Policy, now: dt.datetime) -> dt.datetime | None:
    if policy.policy == "manual":
        return None
    if policy.policy == "immediate":
        return now
    return now + dt.timedelta(seconds=policy.delay_seconds)
