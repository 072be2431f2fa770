"""Turn the database's own constraint violations into the errors users should see.

Rules rely on the database for uniqueness (it holds across server processes); this maps a
violation of a named constraint to the Twilio error for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fleetsim.core.errors import TwilioError
from fleetsim.db.dialect import unique_violation

__all__ = ["flush_unique"]

UniqueRule = tuple[str, tuple[str, ...], Callable[[], TwilioError]]


def flush_unique(session: Session, rules: Iterable[UniqueRule]) -> None:
    """Flush; a violation of one of `rules` (table, columns, error) raises that error."""
    try:
        session.flush()
    except IntegrityError as exc:
        for table, columns, error in rules:
            if unique_violation(exc, table, columns):
                raise error() from None
        raise
