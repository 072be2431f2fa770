"""The lock on a Sim's device that counting use and moving billing periods take first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetsim.db.dialect import for_update
from fleetsim.db.store import Tx
from fleetsim.db.tables import Device

__all__ = ["LockedDevice", "lock_device", "lock_devices", "locked_device"]


class LockedDevice(NamedTuple):
    """A Sim's device as `lock_device` reads it, locked until the transaction ends."""

    id: int
    sim_id: int
    state: str
    data_blocked: bool


def lock_device(tx: Tx, sim_id: int) -> LockedDevice | None:
    """The Sim's device, locked (and read afresh) until the transaction ends.

    Everything that counts use or moves billing periods takes this lock first, so that
    concurrent use never loses an increment and a period never opens twice (PostgreSQL;
    SQLite has one writer). Pending changes of the ORM session are flushed first (as
    before every statement of a Tx), so none is lost."""
    return lock_devices(tx, [sim_id]).get(sim_id)


def lock_devices(tx: Tx, sim_ids: Sequence[int]) -> dict[int, LockedDevice]:
    """`lock_device` for many Sims, by Sim id, locked in Sim order."""
    if not sim_ids:
        return {}
    marks = ", ".join("?" for _ in sim_ids)
    rows = tx.all(
        f"SELECT id, sim_id, state, data_blocked FROM devices WHERE sim_id IN ({marks})"  # noqa: S608
        f" ORDER BY sim_id{for_update(tx.engine, 'devices')}",
        tuple(sim_ids),
    )
    # The ORM session's rows of devices are read again: the rules still on the ORM must
    # see them as locked (the lock's statement flushed what the session held).
    tx.forget(Device)
    return {row[1]: LockedDevice(row[0], row[1], row[2], bool(row[3])) for row in rows}


def locked_device(session: Session, sim_id: int) -> Device | None:
    """`lock_device`, for the rules still on the ORM: the session's row of the device,
    read again once it is locked."""
    if lock_device(Tx.of(session), sim_id) is None:
        return None
    return session.execute(select(Device).where(Device.sim_id == sim_id)).scalar_one()
