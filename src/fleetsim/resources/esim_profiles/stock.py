"""The SM-DP+'s stock of eSIM Profiles: finite, set by the operator, kept in the database.

A profile is taken from the stock when it is created; when none is left, creating one
answers 83500. Until the operator sets it (and after a reset) the stock is `DEFAULT_STOCK`.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fleetsim.core.errors import ESimProfilesOutOfStock, InvalidParameter
from fleetsim.db.tables import ESimStock

__all__ = ["DEFAULT_STOCK", "MAX_STOCK", "get_stock", "set_stock", "take_profile"]

DEFAULT_STOCK = 1000
MAX_STOCK = 10_000_000
_ROW = 1
_PASSES = 10


def get_stock(session: Session) -> int:
    row = session.get(ESimStock, _ROW, populate_existing=True)
    return DEFAULT_STOCK if row is None else row.remaining


def set_stock(session: Session, remaining: int) -> int:
    if not 0 <= remaining <= MAX_STOCK:
        raise InvalidParameter("Remaining", f"must be a whole number from 0 to {MAX_STOCK}")
    row = session.get(ESimStock, _ROW)
    if row is None:
        session.add(ESimStock(id=_ROW, remaining=remaining))
    else:
        row.remaining = remaining
    session.flush()
    return remaining


def take_profile(session: Session) -> None:
    """Take one profile from the stock, or refuse with 83500 when none is left."""
    # Each pass ends or loses a race with another request that made the row meanwhile;
    # a few passes are plenty.
    for _ in range(_PASSES):
        # One conditional UPDATE: two nodes taking the last profile cannot both get it.
        taken = session.execute(
            update(ESimStock)
            .where(ESimStock.id == _ROW, ESimStock.remaining > 0)
            .values(remaining=ESimStock.remaining - 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return
        row = session.get(ESimStock, _ROW, populate_existing=True)
        if row is not None:
            if row.remaining <= 0:
                raise ESimProfilesOutOfStock()
            continue  # made by another request since the UPDATE: take from it
        try:
            with session.begin_nested():
                session.add(ESimStock(id=_ROW, remaining=DEFAULT_STOCK - 1))
        except IntegrityError:
            continue  # another request made the row first: take from it
        return
    raise RuntimeError(f"the eSIM stock row kept changing during {_PASSES} attempts")
