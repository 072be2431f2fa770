"""Fetch one keyset page of any account query (see `fleetsim.core.paging`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from fleetsim.core.paging import Cursor, PageRequest

__all__ = ["Page", "fetch_page"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next: Cursor | None
    previous: Cursor | None


def fetch_page(
    session: Session,
    query: Select[T],
    key: InstrumentedAttribute[int],
    request: PageRequest,
) -> Page[T]:
    """Rows of `query` in ascending `key` order, `request.page_size` at a time."""
    cursor = Cursor.decode(request.token, (int,)) if request.token else None
    size = request.page_size
    if cursor is not None and cursor.direction == "before":
        rows = list(
            session.execute(query.where(key < cursor.key[0]).order_by(key.desc()).limit(size + 1))
            .scalars()
            .all()
        )
        has_previous = len(rows) > size
        items = list(reversed(rows[:size]))
        has_next = _any(session, query.where(key >= cursor.key[0]))
    else:
        bounded = query if cursor is None else query.where(key > cursor.key[0])
        rows = list(session.execute(bounded.order_by(key).limit(size + 1)).scalars().all())
        has_next = len(rows) > size
        items = rows[:size]
        has_previous = cursor is not None and _any(session, query.where(key <= cursor.key[0]))
    edge = key.key
    return Page(
        items=items,
        next=Cursor("after", (getattr(items[-1], edge),)) if has_next and items else None,
        previous=Cursor("before", (getattr(items[0], edge),)) if has_previous and items else None,
    )


def _any(session: Session, query: Select[Any]) -> bool:
    return bool(session.execute(select(exists(query.limit(1).subquery()))).scalar())
