"""The connections a unit of work runs on: the pool's, or a thread's own.

The event loop runs every SQLite read and the grouped writes of its requests one after
another (`fleetsim.http.commit`) on a connection it keeps out of the pool, so that a unit
of work skips the pool's check-out, reset and check-in (and, on PostgreSQL, the ping on
check-out).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event

from fleetsim.db.dialect import IN_TRANSACTION, end_write, is_sqlite
from fleetsim.db.liveness import idle_long, mark_used

__all__ = ["checkin", "checkout"]


# The connections threads keep for themselves, by engine and thread (see `checkout`).
_THREAD_CONNECTIONS: weakref.WeakKeyDictionary[Engine, dict[int, Any]] = weakref.WeakKeyDictionary()
_THREAD_CONNECTIONS_LOCK = threading.Lock()


def checkout(engine: Engine, thread_connection: bool) -> Any:
    """A pooled connection, or the calling thread's own.

    The event loop runs every SQLite read and the grouped writes of its requests, one after
    another (`fleetsim.http.commit`): a connection of its own, kept out of the pool, spares
    each unit of work the pool's check-out, check-in and reset (and on PostgreSQL its ping,
    a round trip, unless the connection was idle for a while). A thread already in a
    transaction on its connection (a unit of work that opens another) gets a pooled one."""
    if not thread_connection:
        return engine.pool.connect()
    thread = threading.get_ident()
    with _THREAD_CONNECTIONS_LOCK:
        held = _THREAD_CONNECTIONS.get(engine)
        if held is None:
            held = _THREAD_CONNECTIONS[engine] = {}
            event.listen(engine, "engine_disposed", _close_thread_connections)
        connection = held.get(thread)
    if connection is not None and connection.info.get(IN_TRANSACTION):
        return engine.pool.connect()
    if connection is not None and not _still_alive(engine, connection):
        _forget_thread_connection(engine, connection)
        connection = None
    if connection is None:
        connection = engine.pool.connect()  # pinged, on PostgreSQL
        connection.detach()  # out of the pool's count: it is this thread's
        with _THREAD_CONNECTIONS_LOCK:
            held[thread] = connection
    return connection


def _still_alive(engine: Engine, connection: Any) -> bool:
    """Whether a thread's PostgreSQL connection still answers, asked only when it was idle
    long enough for the server to have gone away (a restart, a failover)."""
    if is_sqlite(engine) or not idle_long(connection.info):
        return True
    try:
        cursor = connection.dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        connection.dbapi_connection.rollback()
    except engine.dialect.loaded_dbapi.Error:
        return False
    return True


def checkin(engine: Engine, connection: Any) -> None:
    """Hand `connection` back after its transaction: to the pool (which rolls back what
    was not committed), or to its thread."""
    end_write(engine, connection)
    if not connection.is_detached:
        connection.close()
        return
    mark_used(connection.info)
    if _in_transaction(engine, connection):  # the rollback itself failed
        _forget_thread_connection(engine, connection)


def _in_transaction(engine: Engine, connection: Any) -> bool:
    dbapi = connection.dbapi_connection
    if dbapi is None:
        return True
    if is_sqlite(engine):
        return bool(dbapi.in_transaction)
    return bool(dbapi.info.transaction_status != 0)  # psycopg: 0 is idle


def _forget_thread_connection(engine: Engine, connection: Any) -> None:
    with _THREAD_CONNECTIONS_LOCK:
        held = _THREAD_CONNECTIONS.get(engine, {})
        for thread, kept in list(held.items()):
            if kept is connection:
                del held[thread]
    with contextlib.suppress(Exception):  # it may be gone already
        connection.invalidate()


def _close_thread_connections(engine: Engine) -> None:
    """`engine.dispose()` closes the threads' own connections too."""
    with _THREAD_CONNECTIONS_LOCK:
        held = _THREAD_CONNECTIONS.pop(engine, {})
    for connection in held.values():
        connection.close()
