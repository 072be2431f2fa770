"""The accounts that credentials were found to act for, kept in memory, so that a request
on PostgreSQL authenticates without a round trip to the database.

What is kept is trusted only while this process hears of every change that could end a
credential:

- Another process's change: on PostgreSQL, a trigger on the tables that hold credentials
  (accounts, api_keys, api_clients) notifies every node when the transaction that changed
  them commits (migration 0010), and each node listens (`keep_fresh`, for as long as the
  app runs).
- This process's own change, through the ORM models or a statement of an ORM session
  (a bulk `delete(table)`, as a reset makes): from the moment it is made, nothing kept
  is used or kept, and all of it is forgotten once its connection is back in the pool
  (after the commit), so a credential changed through this node never works here again,
  not even for a moment.

On SQLite nothing is kept: another process's change sends no notice, and the lookup runs
in-process and costs little. Only successful lookups are kept (a failure always asks the
database), under a digest of the credentials, never the secret itself.

Deviation: on PostgreSQL, a credential changed or revoked (an auth token, a suspended
account, a deleted API key or API client) stops working at once in the process that made
the change, and in every other (another node, or another process of `serve --workers N`)
when PostgreSQL's notice reaches it, a moment after the change commits.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, ORMExecuteState, Session
from sqlalchemy.pool import Pool

from fleetsim.db.connections import when_kept
from fleetsim.db.dialect import database_key, is_sqlite
from fleetsim.db.notices import Listener
from fleetsim.db.store import Row, Tx
from fleetsim.db.tables import Account, ApiClient, ApiKey

__all__ = ["CHANNEL", "CredentialCache", "cache_of", "keep_fresh", "remembered"]

# The channel migration 0010's trigger notifies.
CHANNEL = "fleetsim_credentials"
# Kept lookups at most; past it the cache starts again empty (a burst of new credentials).
_LARGEST = 10_000


class CredentialCache:
    """The kept lookups of one database, for this process."""

    def __init__(self) -> None:
        self._rows: dict[bytes, Row] = {}
        self._generation = 0  # moves whenever what is kept may have gone stale
        self._listeners = 0  # listening connections: notices are heard while above 0
        self._changes = 0  # this process's transactions changing credentials, under way
        self.hits = 0  # lookups answered from memory
        self._lock = threading.Lock()
        # Notified whenever the cache is emptied or starts or stops being used.
        self.moved = threading.Condition(self._lock)

    @property
    def in_use(self) -> bool:
        return self._listeners > 0 and self._changes == 0

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, key: bytes) -> Row | None:
        row = self._rows.get(key) if self.in_use else None
        if row is not None:
            self.hits += 1
        return row

    def put(self, key: bytes, row: Row, generation: int) -> None:
        """Keep `row`, read while the cache stood at `generation`: not if it moved since,
        as the row may predate the change that moved it."""
        with self._lock:
            if generation != self._generation or not self.in_use:
                return
            if len(self._rows) >= _LARGEST:
                self._rows.clear()
            self._rows[key] = row

    def forget(self) -> None:
        with self._lock:
            self._forget()

    def listening(self, on: bool) -> None:
        with self._lock:
            self._listeners += 1 if on else -1
            self._forget()  # notices were not heard until now, or will not be from now

    def change_begins(self) -> None:
        with self._lock:
            self._changes += 1
            self._forget()

    def change_ends(self) -> None:
        with self._lock:
            self._changes -= 1
            self._forget()

    def _forget(self) -> None:
        self._generation += 1
        self._rows.clear()
        self.moved.notify_all()


_CACHES: dict[str, CredentialCache] = {}
_CACHES_LOCK = threading.Lock()


def cache_of(engine: Engine) -> CredentialCache:
    """The cache of `engine`'s database, the same for every engine of this process that
    reaches it."""
    key = database_key(engine)
    found = _CACHES.get(key)
    if found is None:
        with _CACHES_LOCK:
            found = _CACHES.setdefault(key, CredentialCache())
    return found


def remembered(
    tx: Tx, credentials: tuple[str, ...], look_up: Callable[[], Row | None]
) -> Row | None:
    """What `look_up` gives for `credentials` (a row, or None when they act for no one),
    from the cache when it holds it. `look_up` checks the secret: only its rows are
    kept."""
    cache = cache_of(tx.engine)
    if not cache.in_use:  # SQLite's case, always: nothing to look for, nothing to keep
        return look_up()
    key = hashlib.sha256("\0".join(credentials).encode()).digest()
    row = cache.get(key)
    if row is not None:
        return row
    generation = cache.generation
    row = look_up()
    if row is not None:
        cache.put(key, row, generation)
    return row


@contextlib.asynccontextmanager
async def keep_fresh(engine: Engine) -> AsyncIterator[None]:
    """Use the cache of `engine`'s database while the block runs, on the running loop,
    for as long as this process hears of every change (PostgreSQL); on SQLite, never."""
    if is_sqlite(engine):
        yield
        return
    cache = cache_of(engine)
    listener = Listener(engine, CHANNEL, heard=cache.forget, listening=cache.listening)
    await listener.start()
    try:
        yield
    finally:
        await listener.stop()


# --- this process's own changes -----------------------------------------------------

_CHANGING = "fleetsim_changes_credentials"  # in a pooled connection's info: its cache


def _change_made(_mapper: Mapper[Any], connection: Connection, _target: Any) -> None:
    _changing(connection)


def _changing(connection: Connection) -> None:
    # SQLite keeps nothing; its requests' connections also stay out of the pool.
    if _CHANGING in connection.info or is_sqlite(connection.engine):
        return
    cache = cache_of(connection.engine)
    cache.change_begins()
    connection.info[_CHANGING] = cache


def _connection_back(_dbapi_connection: Any, record: Any, *_: Any) -> None:
    # The transaction has ended (committed or rolled back) when its connection is back.
    if record is not None:
        _transaction_ended(record.info)


def _transaction_ended(info: dict[Any, Any]) -> None:
    cache = info.pop(_CHANGING, None)
    if cache is not None:
        cache.change_ends()


_CREDENTIAL_MODELS = (Account, ApiKey, ApiClient)
_CREDENTIAL_TABLES = frozenset(model.__table__ for model in _CREDENTIAL_MODELS)


def _statement_made(state: ORMExecuteState) -> None:
    # A bulk UPDATE or DELETE reaches no mapper's events, only the session's.
    if not (state.is_update or state.is_delete):
        return
    if getattr(state.statement, "table", None) in _CREDENTIAL_TABLES:
        _changing(state.session.connection(state.bind_arguments))


for _model in _CREDENTIAL_MODELS:
    event.listen(_model, "after_update", _change_made)
    event.listen(_model, "after_delete", _change_made)
event.listen(Session, "do_orm_execute", _statement_made)
event.listen(Pool, "checkin", _connection_back)
event.listen(Pool, "invalidate", _connection_back)
when_kept(_transaction_ended)  # a connection an event loop keeps for its next unit
