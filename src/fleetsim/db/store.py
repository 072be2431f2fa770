"""The transaction every request and job works in: precompiled statements on a pooled
DBAPI connection, and an ORM session on the same connection for the rules still written
with the ORM.

A `Tx` runs plain SQL written with `?` placeholders: unchanged on SQLite, rewritten once
for the PostgreSQL drivers (`%s` for psycopg, `$1`, `$2`... for asyncpg). Rows are plain
tuples in the order of the SELECT. Inserts and updates go column by column through the
bind processors SQLAlchemy would use (`fleetsim.db.plans`), so what is stored is what a
flush of the same values would store.

`Tx.session` opens an ORM session lazily, bound to the same DBAPI connection and so to the
same transaction: a statement of the Tx first flushes what the session holds (as the
session's own autoflush would), and a write of the Tx expires what the session has loaded,
so neither reads stale rows. Requests that never touch the ORM never build a session.

A unit of work gets its Tx from `fleetsim.db.units`; `Tx.savepoint()` lets several units
share one transaction (the group commit of `fleetsim.http.commit`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.instrumentation import manager_of_class

from fleetsim.core.dates import iso
from fleetsim.core.sids import Prefix, canonical_sid, is_sid
from fleetsim.db.dialect import (
    for_update,
    needs_block,
    open_block,
    placeholders,
    statement_cursor,
    unique_violation,
)
from fleetsim.db.integrity import UniqueRule
from fleetsim.db.plans import (
    RETURNING_ID,
    attribute_bind,
    insert_plan,
    insert_with_lookup,
    load_plan,
    update_plan,
)
from fleetsim.db.tables import Base

__all__ = [
    "Lookup",
    "Row",
    "Tx",
    "UniqueRule",
    "detached",
    "ref_key",
    "stored_datetime",
    "stored_iso",
]

Row = tuple[Any, ...]
M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class Lookup:
    """The account's row of `table` addressed by `ref` (a SID of `prefix` or a unique
    name, as `Tx.by_ref` finds it), whose id an inserted row's `attribute` takes
    (`Tx.insert`'s `lookup`); `missing` is raised when there is none."""

    attribute: str
    table: str
    account_id: int
    ref: str
    prefix: Prefix
    missing: Callable[[], Exception]


@dataclass(frozen=True)
class _Last:
    """A unit's last statement (`Tx.insert`'s `last`), and what it raises when it changes
    no row."""

    sql: str
    params: tuple[Any, ...]
    rules: tuple[UniqueRule, ...]
    missing: Callable[[], Exception] | None


class Tx:
    """One transaction on one pooled DBAPI connection."""

    def __init__(
        self,
        engine: Engine,
        connection: Any,
        *,
        session: Session | None = None,
        read_only: bool = False,
        in_block: bool = True,
    ) -> None:
        self.engine = engine
        self._connection = connection
        self._read_only = read_only
        # False while a PostgreSQL transaction runs its statements alone (see
        # `db.dialect.begin_write`); True once the block is open, and always on SQLite.
        self._in_block = in_block
        # The unit's `last` statement, run when it ends (see `insert`).
        self._last: _Last | None = None
        self._dialect: Dialect = engine.dialect
        self._cursor = statement_cursor(connection, self._dialect)
        self._session = session
        self._own_session = session is None
        self._orm_connection: Connection | None = None
        self._settled: dict[tuple[str, tuple[Any, ...]], Row | None] = {}

    @classmethod
    def of(cls, session: Session) -> Tx:
        """The Tx of a session's transaction, for callers that hold a session."""
        connection = session.connection()
        return cls(connection.engine, connection.connection, session=session)

    # --- reading ---------------------------------------------------------------------

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Row | None:
        """The first row of `sql`, or None."""
        row = self._execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        """Every row of `sql`."""
        return [tuple(row) for row in self._execute(sql, params).fetchall()]

    def settled(self, sql: str, params: tuple[Any, ...] = ()) -> Row | None:
        """`one`, read once per transaction: for rows no request changes while others
        share the transaction (accounts, policies)."""
        key = (sql, params)
        if key not in self._settled:
            self._settled[key] = self.one(sql, params)
        return self._settled[key]

    def by_ref(
        self,
        source: str,
        columns: str,
        account_id: int,
        ref: str,
        prefix: Prefix,
        *,
        alias: str = "",
        lock: bool = False,
    ) -> Row | None:
        """`columns` of the account's row of `source` (a table, or tables joined to the
        one named `alias`) addressed by SID or, failing the SID shape, unique name; with
        `lock`, the row is locked against other writers until the transaction ends."""
        key, value = ref_key(ref, prefix)
        lock_clause = for_update(self.engine, alias or source) if lock else ""
        return self.one(_by_ref_sql(source, columns, alias, key, lock_clause), (account_id, value))

    def load(
        self, model: type[M], where: str, params: tuple[Any, ...], *, lock: bool = False
    ) -> M | None:
        """The row of `model` matching `where` (a condition on its table's columns, from
        the code), as a `detached` instance holding every column as the ORM would load
        it; with `lock`, locked against other writers until the transaction ends."""
        sql, fields = load_plan(model, where, self._dialect, lock)
        row = self.one(sql, params)
        if row is None:
            return None
        values = {key: v if p is None else p(v) for (key, p), v in zip(fields, row, strict=True)}
        return detached(model, values)

    def load_by_ref(
        self, model: type[M], account_id: int, ref: str, prefix: Prefix, *, lock: bool = False
    ) -> M | None:
        """`load` of the account's row addressed by SID or, failing the SID shape, unique
        name."""
        key, value = ref_key(ref, prefix)
        return self.load(model, f"account_id = ? AND {key} = ?", (account_id, value), lock=lock)

    def bound(self, model: type[Base], key: str, value: Any) -> Any:
        """`value` of `model`'s attribute `key` as a statement's parameter, as a flush
        would write it: for conditions on a column, such as a time it must be before."""
        process = attribute_bind(model, key, self._dialect)
        return value if process is None else process(value)

    # --- writing ---------------------------------------------------------------------

    def insert(
        self,
        model: type[M],
        values: Mapping[str, Any],
        *rules: UniqueRule,
        last: bool = False,
        lookup: Lookup | None = None,
    ) -> M:
        """Insert a row of `model` holding `values` (by attribute) as a flush of
        `model(**values)` would; the row, with its id, as a `detached` instance. A
        violation of one of `rules` raises its error.

        With `lookup`, the statement itself finds the row whose id the lookup's attribute
        takes (its value in `values` is ignored), and inserts nothing, raising the
        lookup's `missing`, when there is none: one statement where a read and an insert
        would be two.

        `last` says no statement of the unit of work follows this one (one that does
        raises `RuntimeError`). In a Tx of `db.units.transaction`, the insert is then
        carried out when the unit ends, after the rest of its work, so that an error there
        still leaves nothing: the instance has no id (nor the id a lookup finds), and a
        violation of `rules`, or a missing lookup, raises as the unit ends. On
        PostgreSQL, when nothing before it wrote or locked, it runs alone, and the unit
        needs no BEGIN and COMMIT (`db.dialect.begin_write`). A Tx of `Tx.of` runs it at
        once: the session's owner ends that unit."""
        plan = insert_plan(model, self._dialect)
        params = plan.params(values)
        if lookup is None:
            sql, returning, missing = plan.sql.removesuffix(RETURNING_ID), RETURNING_ID, None
        else:
            key, ref = ref_key(lookup.ref, lookup.prefix)
            found = insert_with_lookup(model, self._dialect, lookup.attribute, lookup.table, key)
            at = found.place
            params = (*params[:at], *params[at + 1 :], lookup.account_id, ref)
            sql, returning, missing = found.sql, f"{RETURNING_ID}, {found.column}", lookup.missing
        if last and self._own_session:
            self._before_last(_Last(sql, params, rules, missing))
            return detached(model, dict(values))
        row = self._write(sql + returning, params, rules, changed=None).fetchone()
        if row is None:
            assert missing is not None  # a plain insert returns its row
            raise missing()
        if lookup is not None:
            return detached(model, {**values, "id": row[0], lookup.attribute: row[1]})
        return detached(model, {**values, "id": row[0]})

    def insert_id(self, model: type[Base], values: Mapping[str, Any], *rules: UniqueRule) -> int:
        """`insert`, giving only the new row's id: for callers that need no instance."""
        plan = insert_plan(model, self._dialect)
        (row_id,) = self._write(plan.sql, plan.params(values), rules, changed=None).fetchone()
        return int(row_id)

    def insert_many(self, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
        """`insert` of many rows of `model` in one batch, without reading their ids."""
        if rows:
            plan = insert_plan(model, self._dialect)
            sql = plan.sql.removesuffix(RETURNING_ID)
            self._write(sql, [plan.params(values) for values in rows], (), changed=None)

    def update(
        self, model: type[Base], values: Mapping[str, Any], *rules: UniqueRule, **where: Any
    ) -> int:
        """Set `values` (by attribute) on the rows of `model` whose attributes equal
        `where`, as a flush would; the number of rows changed."""
        sql, processors = update_plan(model, tuple(values), tuple(where), self._dialect)
        given = (*values.values(), *where.values())
        params = tuple(v if p is None else p(v) for v, p in zip(given, processors, strict=True))
        return int(self._write(sql, params, rules, changed=model).rowcount)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run a statement that changes rows; the number changed."""
        return int(self._write(sql, params, (), changed=Base).rowcount)

    def forget(self, model: type[Base]) -> None:
        """Expire the session's loaded rows of `model` (a model, or `Base` for any): rows
        a statement changed or locked, which the ORM must read again."""
        if self._session is not None:
            for instance in list(self._session.identity_map.values()):
                if isinstance(instance, model):
                    self._session.expire(instance)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """What the block writes stays only if it ends without raising."""
        self._end_session(keep=True)
        self._open_block()
        # One name for every unit: a statement names the most recent savepoint of that
        # name, so nested ones still pair up, and the driver's cache of prepared
        # statements holds three texts rather than three a unit of the largest group.
        self._cursor.execute("SAVEPOINT unit")
        try:
            yield
            self._run_last()
            self._end_session(keep=True)
        except BaseException:
            self._last = None
            self._end_session(keep=False)
            self._cursor.execute("ROLLBACK TO SAVEPOINT unit")
            self._cursor.execute("RELEASE SAVEPOINT unit")
            raise
        self._cursor.execute("RELEASE SAVEPOINT unit")

    # --- the ORM, on the same transaction -----------------------------------------------

    @property
    def session(self) -> Session:
        """An ORM session in this transaction, opened at first use. It works in a
        savepoint of its own: a failed flush rolls back to it, not the transaction."""
        if self._session is None:
            if self._orm_connection is None:
                self._open_block()
                orm = Connection(self.engine, connection=self._connection)
                orm.begin()  # already begun on the DBAPI connection: see `IN_TRANSACTION`
                self._orm_connection = orm
            self._session = Session(
                bind=self._orm_connection,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
                autoflush=False,
            )
        return self._session

    def flush(self) -> None:
        """Write what the ORM session holds, before a statement that may read it."""
        if self._session is not None and (
            self._session.new or self._session.dirty or self._session.deleted
        ):
            self._session.flush()

    def _end_session(self, *, keep: bool) -> None:
        """End the session this Tx opened: what it holds is written (`keep`) or not."""
        if not self._own_session or self._session is None:
            return
        session, self._session = self._session, None
        if keep:
            session.commit()  # flushes, and releases its savepoint
        session.close()

    def commit(self) -> None:
        self._run_last()
        self._end_session(keep=True)
        if self._orm_connection is not None:
            self._orm_connection.commit()
        else:
            self._connection.commit()

    def rollback(self) -> None:
        self._last = None
        self._end_session(keep=False)
        if self._orm_connection is not None:
            self._orm_connection.rollback()
        else:
            self._connection.rollback()

    def close(self) -> None:
        self._end_session(keep=False)
        self._cursor.close()

    def _open_block(self) -> None:
        if not self._in_block:
            open_block(self.engine, self._connection)
            self._in_block = True

    def _before_last(self, last: _Last) -> None:
        """Keep the unit's last statement (see `insert`) until it ends."""
        if self._read_only:
            raise RuntimeError("a unit of work begun to read tried to write")
        self._refuse_after_last()
        self._last = last

    def _refuse_after_last(self) -> None:
        if self._last is not None:
            raise RuntimeError("a statement after the one its unit of work said was its last")

    def _run_last(self) -> None:
        if self._last is not None:
            last, self._last = self._last, None
            cursor = self._write(last.sql, last.params, last.rules, changed=None, alone=True)
            if last.missing is not None and cursor.rowcount == 0:
                raise last.missing()

    def _execute(
        self,
        sql: str,
        params: tuple[Any, ...] | list[tuple[Any, ...]],
        *,
        alone: bool = False,
    ) -> Any:
        """Run `sql` once, or once per tuple of a list of `params` (one batch); `alone`,
        the unit's last statement, needs no transaction block of its own."""
        self._refuse_after_last()
        self.flush()
        if not self._in_block and not alone and needs_block(sql):
            self._open_block()
        statement = placeholders(sql, self._dialect)
        if not isinstance(params, list):
            self._cursor.execute(statement, params)
        elif len(params) == 1:  # a batch of one, as requests write: no batch's cost
            self._cursor.execute(statement, params[0])
        else:
            self._cursor.executemany(statement, params)
        return self._cursor

    def _write(
        self,
        sql: str,
        params: tuple[Any, ...] | list[tuple[Any, ...]],
        rules: Iterable[UniqueRule],
        *,
        changed: type[Base] | None,
        alone: bool = False,
    ) -> Any:
        """Run a write; the session's loaded rows of `changed` (a model, or `Base` for
        any) are expired, since the write may have changed them. An insert changes no
        loaded row."""
        if self._read_only:  # on PostgreSQL it would commit alone, at once
            raise RuntimeError("a unit of work begun to read tried to write")
        try:
            cursor = self._execute(sql, params, alone=alone)
        except self._dialect.loaded_dbapi.IntegrityError as exc:
            for table, columns, error in rules:
                if unique_violation(exc, table, columns):
                    raise error() from None
            raise
        if changed is not None:
            self.forget(changed)
        return cursor


def ref_key(ref: str, prefix: Prefix) -> tuple[str, str]:
    """The column and value a reference addresses: the SID when `ref` has the shape of a
    SID of `prefix`, else the unique name."""
    if is_sid(ref, prefix):
        return "sid", canonical_sid(ref, prefix)
    return "unique_name", ref


@lru_cache(maxsize=128)
def _by_ref_sql(source: str, columns: str, alias: str, key: str, lock_clause: str) -> str:
    # Names from the code, never from a request.
    owner = f"{alias}." if alias else ""
    where = f"{owner}account_id = ? AND {owner}{key} = ?"
    return f"SELECT {columns} FROM {source} WHERE {where}{lock_clause}"  # noqa: S608


def detached(model: type[M], values: Mapping[str, Any]) -> M:
    """An instance of `model` holding `values`, made without the ORM's attribute events,
    as the ORM makes the rows it loads: for rows a Tx wrote or read, to render them."""
    manager = manager_of_class(model)
    if not manager.mapper.configured:  # the attributes need their mappers
        configure_mappers()
    instance: M = manager.new_instance()
    instance.__dict__.update(values)
    return instance


def stored_datetime(value: dt.datetime | str) -> dt.datetime:
    """A `UTCDateTime` column as a Tx reads it: SQLite returns the stored text,
    PostgreSQL a naive datetime; both are UTC."""
    if isinstance(value, str):
        # Parsed with its zone: a seventh of the time of parsing, then `replace` (a page
        # of Sims reads two dates a Sim).
        return dt.datetime.fromisoformat(value + "+00:00")
    return value.replace(tzinfo=dt.UTC)


def stored_iso(value: dt.datetime | str) -> str:
    """`iso(stored_datetime(value))`, and an aware datetime's `iso`: the wire's text of a
    `UTCDateTime` column as a Tx reads it, or of a time the clock gave."""
    if isinstance(value, str):
        # SQLite's text, `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC: its date and its time to
        # the second are the wire's, with no datetime made and formatted in between (a
        # third of the time, on a page of Sims' hundred dates).
        return f"{value[:10]}T{value[11:19]}Z"
    return iso(value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC))
