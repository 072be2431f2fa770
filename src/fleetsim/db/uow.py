"""One unit of work per request or job: committed once at the edge, rolled back on error.

Services receive the `Session` and only ever flush.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fleetsim.db.dialect import WRITE, lock_for_startup

__all__ = ["startup_unit_of_work", "unit_of_work"]


@contextmanager
def unit_of_work(engine: Engine, *, write: bool) -> Iterator[Session]:
    bind = engine.execution_options(**{WRITE: True}) if write else engine
    session = Session(bind=bind, expire_on_commit=False, autoflush=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def startup_unit_of_work(engine: Engine) -> Iterator[Session]:
    """A write unit of work that no other node's start-up runs beside (see
    `lock_for_startup`): for the get-or-create steps every node runs when it starts."""
    with unit_of_work(engine, write=True) as session:
        lock_for_startup(session.connection())
        yield session
