"""Fetch one keyset page of any account query (see `fleetsim.core.paging`)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from fleetsim.core.paging import Cursor, PageRequest
from fleetsim.db.store import Row, Tx

__all__ = ["Page", "edge_page", "fetch_numbered_page", "fetch_page", "page_of_rows"]

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
    *,
    descending: bool = False,
) -> Page[T]:
    """Rows of `query` in ascending `key` order (newest first with `descending`),
    `request.page_size` at a time."""
    cursor = Cursor.decode(request.token, (int,)) if request.token else None
    size = request.page_size
    # In list order: `later` rows come after a key, `earlier` rows before it.
    later, later_or_at, earlier, earlier_or_at = (
        (operator.lt, operator.le, operator.gt, operator.ge)
        if descending
        else (operator.gt, operator.ge, operator.lt, operator.le)
    )
    forward, backward = (key.desc(), key.asc()) if descending else (key.asc(), key.desc())
    if cursor is not None and cursor.direction == "before":
        edge_key = cursor.key[0]
        rows = list(
            session.execute(query.where(earlier(key, edge_key)).order_by(backward).limit(size + 1))
            .scalars()
            .all()
        )
        has_previous = len(rows) > size
        items = list(reversed(rows[:size]))
        has_next = _any(session, query.where(later_or_at(key, edge_key)))
    else:
        bounded = query if cursor is None else query.where(later(key, cursor.key[0]))
        rows = list(session.execute(bounded.order_by(forward).limit(size + 1)).scalars().all())
        has_next = len(rows) > size
        items = rows[:size]
        has_previous = cursor is not None and _any(
            session, query.where(earlier_or_at(key, cursor.key[0]))
        )
    edge = key.key
    return edge_page(
        items,
        lambda item: getattr(item, edge),
        has_next=has_next,
        has_previous=has_previous,
    )


def edge_page(
    items: Sequence[T],
    key_of: Callable[[T], int],
    *,
    has_next: bool,
    has_previous: bool,
) -> Page[T]:
    """The page of `items` (in list order), with cursors from the keys of its edge rows:
    after the last one when more follow, before the first one when some precede."""
    return Page(
        items=items,
        next=Cursor("after", (key_of(items[-1]),)) if has_next and items else None,
        previous=Cursor("before", (key_of(items[0]),)) if has_previous and items else None,
    )


def _any(session: Session, query: Select[Any]) -> bool:
    return bool(session.execute(select(exists(query.limit(1).subquery()))).scalar())


def page_of_rows(
    tx: Tx,
    *,
    columns: str,
    source: str,
    where: str,
    params: tuple[Any, ...],
    key: str,
    request: PageRequest,
    descending: bool = False,
) -> Page[Row]:
    """`fetch_page` on a Tx: rows of `SELECT columns FROM source WHERE where` (names from
    the code, never a request), whose first column is `key`, in ascending `key` order
    (newest first with `descending`), `request.page_size` at a time."""
    cursor = Cursor.decode(request.token, (int,)) if request.token else None
    size = request.page_size
    sql = _page_sql(columns, source, where, key, descending)
    if cursor is not None and cursor.direction == "before":
        edge_key = cursor.key[0]
        rows = tx.all(sql.backward, (*params, edge_key, size + 1))
        has_previous = len(rows) > size
        items = list(reversed(rows[:size]))
        has_next = tx.one(sql.later_or_at, (*params, edge_key)) is not None
    else:
        if cursor is None:
            rows = tx.all(sql.first, (*params, size + 1))
        else:
            rows = tx.all(sql.forward, (*params, cursor.key[0], size + 1))
        has_next = len(rows) > size
        items = rows[:size]
        has_previous = cursor is not None and (
            tx.one(sql.earlier_or_at, (*params, cursor.key[0])) is not None
        )
    return edge_page(items, operator.itemgetter(0), has_next=has_next, has_previous=has_previous)


@dataclass(frozen=True)
class _PageSql:
    first: str
    forward: str
    backward: str
    later_or_at: str
    earlier_or_at: str


@functools.lru_cache(maxsize=128)
def _page_sql(columns: str, source: str, where: str, key: str, descending: bool) -> _PageSql:
    later, later_or_at, earlier, earlier_or_at = (
        ("<", "<=", ">", ">=") if descending else (">", ">=", "<", "<=")
    )
    forward, backward = ("DESC", "ASC") if descending else ("ASC", "DESC")
    select_ = f"SELECT {columns} FROM {source} WHERE {where}"  # noqa: S608 (names from the code)
    exists_ = f"SELECT 1 FROM {source} WHERE {where}"  # noqa: S608
    return _PageSql(
        first=f"{select_} ORDER BY {key} {forward} LIMIT ?",
        forward=f"{select_} AND {key} {later} ? ORDER BY {key} {forward} LIMIT ?",
        backward=f"{select_} AND {key} {earlier} ? ORDER BY {key} {backward} LIMIT ?",
        later_or_at=f"{exists_} AND {key} {later_or_at} ? LIMIT 1",
        earlier_or_at=f"{exists_} AND {key} {earlier_or_at} ? LIMIT 1",
    )


def fetch_numbered_page(
    session: Session,
    query: Select[T],
    key: InstrumentedAttribute[int],
    *,
    number: int,
    size: int,
) -> tuple[list[T], int]:
    """Page `number` (from 1) of `size` rows of `query` in `key` order, and the count of
    all its rows: KORE's numbered pages, for its small lists (clients, secrets)."""
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(key).offset((number - 1) * size).limit(size))
    return list(rows.scalars()), int(total)
