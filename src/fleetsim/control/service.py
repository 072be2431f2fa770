"""Operator rules: reset state, read the queues."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fleetsim.db.tables import (
    Account,
    ApiClient,
    ApiKey,
    Base,
    ClockState,
    ConsoleSecret,
    Job,
    Network,
    NetworkIdentifier,
    OperatorCredential,
    WebhookSecret,
)
from fleetsim.engine.policies import reset_policies

__all__ = ["job_counts", "reset_state"]

# What a reset never removes: the network catalogue, the clock, the operator and the
# console's signing secret (console sessions of kept accounts stay valid).
_KEPT = {
    Network.__table__,
    NetworkIdentifier.__table__,
    ClockState.__table__,
    OperatorCredential.__table__,
    ConsoleSecret.__table__,
}
# Accounts and their credentials: API keys, API clients and webhook secrets.
_ACCOUNTS = {
    Account.__table__,
    ApiKey.__table__,
    ApiClient.__table__,
    WebhookSecret.__table__,
}


def reset_state(session: Session, *, keep_accounts: bool) -> None:
    """Remove every resource, card, job and delivery (and accounts unless kept).

    Deviation from moto's reset: accounts and their credentials (API keys, API clients,
    webhook secrets) survive by default, so that the
    credentials a test suite holds stay valid across resets.
    """
    kept = _KEPT | (_ACCOUNTS if keep_accounts else set())
    for table in reversed(Base.metadata.sorted_tables):
        if table not in kept:
            session.execute(delete(table))
    reset_policies(session)
    session.flush()


def job_counts(session: Session) -> dict[str, int]:
    # Result.tuples() is deprecated in SQLAlchemy 2.1 (rows are pairs already); dict()
    # needs the rows, not the Result, which has keys().
    rows = session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    return dict(rows)
