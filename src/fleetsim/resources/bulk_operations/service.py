"""Bulk operations: one action (activate, deactivate, move to a Fleet) on a selection of Sims.

The operation is a row; the work is jobs (`bulk.apply`), each applying the action to a
chunk of Sims through `update_sim`, exactly as one API request per Sim would, each Sim in
its own savepoint so that one refusal does not undo the others. The row's counters show
progress; the first errors are kept for the user to read.

Deviation: fleetsim's own (Twilio's console has bulk actions; its API has none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from fleetsim.core.errors import InvalidParameter, NotFound, TwilioError
from fleetsim.core.paging import PageRequest
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import owned
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, BulkOperation
from fleetsim.engine.jobs import schedule
from fleetsim.engine.worker import JobContext, JobHandler, transactional
from fleetsim.resources.fleets.service import fetch_fleet
from fleetsim.resources.sims.service import SimChanges, update_sim

__all__ = [
    "ACTIONS",
    "APPLY",
    "JOB_HANDLERS",
    "create_bulk_operation",
    "fetch_bulk_operation",
    "list_bulk_operations",
]

APPLY = "bulk.apply"
ACTIONS = ("activate", "deactivate", "move")
CHUNK = 50
MAX_SIMS = 10_000
_KEPT_ERRORS = 20


def create_bulk_operation(
    session: Session,
    account: Account,
    *,
    action: str,
    sims: Sequence[str],
    fleet: str | None,
    now: dt.datetime,
) -> BulkOperation:
    """Record the operation and schedule its jobs, due now, one per chunk of Sims."""
    if action not in ACTIONS:
        raise InvalidParameter("Action", f"must be one of {', '.join(ACTIONS)}")
    selected = list(dict.fromkeys(s.strip() for s in sims if s.strip()))
    if not selected:
        raise InvalidParameter("Sims", "select at least one Super SIM")
    if len(selected) > MAX_SIMS:
        raise InvalidParameter("Sims", f"select at most {MAX_SIMS} Super SIMs at once")
    fleet_sid = None
    if action == "move":
        if not fleet:
            raise InvalidParameter("Fleet", "choose the Fleet to move the Super SIMs to")
        fleet_sid = fetch_fleet(session, account, fleet).sid
    operation = BulkOperation(
        account_id=account.id,
        action=action,
        fleet_sid=fleet_sid,
        total=len(selected),
        succeeded=0,
        failed=0,
        errors="",
        created_at=now,
    )
    session.add(operation)
    session.flush()
    for start in range(0, len(selected), CHUNK):
        schedule(
            session,
            APPLY,
            {"bulk_id": operation.id, "sims": selected[start : start + CHUNK]},
            due_at=now,
            now=now,
            subject=f"bulk:{operation.id}",
        )
    return operation


def fetch_bulk_operation(session: Session, account: Account, bulk_id: int) -> BulkOperation:
    found = session.execute(
        owned(BulkOperation, account.id).where(BulkOperation.id == bulk_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"/console/bulk/{bulk_id}")
    return found


def list_bulk_operations(
    session: Session, account: Account, *, page: PageRequest
) -> Page[BulkOperation]:
    query = owned(BulkOperation, account.id)
    return fetch_page(session, query, BulkOperation.id, page, descending=True)


def _changes(operation: BulkOperation) -> SimChanges:
    if operation.action == "move":
        return SimChanges(fleet=operation.fleet_sid)
    return SimChanges(status="active" if operation.action == "activate" else "inactive")


def _apply(tx: Tx, context: JobContext, payload: dict[str, object]) -> None:
    session = tx.session
    operation = session.get(BulkOperation, int(str(payload["bulk_id"])))
    if operation is None:
        return
    account = session.get(Account, operation.account_id)
    assert account is not None
    changes = _changes(operation)
    succeeded, errors = 0, []
    sims = payload["sims"]
    assert isinstance(sims, list)
    for sim in sims:
        try:
            with session.begin_nested():
                update_sim(Tx.of(session), account, str(sim), changes=changes, clock=context.clock)
            succeeded += 1
        except TwilioError as exc:
            errors.append(f"{sim}: {exc.message}")
    # Each kept error is one line ending in a newline.
    room = max(0, _KEPT_ERRORS - operation.errors.count("\n"))
    added = "".join(f"{line}\n" for line in errors[:room])
    # Chunks may run at once on several workers: add to the counters in SQL.
    session.execute(
        update(BulkOperation)
        .where(BulkOperation.id == operation.id)
        .values(
            succeeded=BulkOperation.succeeded + succeeded,
            failed=BulkOperation.failed + len(errors),
            errors=BulkOperation.errors + added,
        )
    )
    session.refresh(operation)
    if operation.succeeded + operation.failed >= operation.total:
        operation.finished_at = context.clock.now()
    session.flush()


JOB_HANDLERS: dict[str, JobHandler] = {APPLY: transactional(_apply)}
