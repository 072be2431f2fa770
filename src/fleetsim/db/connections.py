"""The connections a unit of work runs on: the pool's, a thread's own, or an event loop's.

The event loop runs every SQLite read and the grouped writes of its requests one after
another (`fleetsim.http.commit`) on a connection it keeps out of the pool, so that a unit
of work skips the pool's check-out, reset and check-in (and, on PostgreSQL, the ping on
check-out). On PostgreSQL the loop runs many units at once, each on a connection of the
loop's engine (`db.dialect.loop_engine`): those stay checked out between units, idle ones
kept for the next unit, so that the pool still bounds how many there are while a unit
skips its check-out and check-in.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from fleetsim.db.dialect import IN_TRANSACTION, end_write, is_loop_engine, is_sqlite
from fleetsim.db.liveness import idle_long, mark_used

__all__ = ["checkin", "checkout", "when_kept"]


# The connections threads keep for themselves, by engine and thread (see `checkout`).
_THREAD_CONNECTIONS: weakref.WeakKeyDictionary[Engine, dict[int, Any]] = weakref.WeakKeyDictionary()
_THREAD_CONNECTIONS_LOCK = threading.Lock()


# The idle connections of the loops' engines, kept checked out (see the module's doc):
# the most recently used last, and at most as many as the pool keeps.
_LOOP_CONNECTIONS: weakref.WeakKeyDictionary[Engine, list[Any]] = weakref.WeakKeyDictionary()
_LOOP_CONNECTIONS_KEPT = 32
# Called with a connection's `info` each time a loop keeps it (see `when_kept`).
_ON_KEEP: list[Callable[[dict[Any, Any]], None]] = []


def when_kept(callback: Callable[[dict[Any, Any]], None]) -> None:
    """Have `callback` called with a connection's `info` whenever an event loop keeps it
    after a unit of work, its transaction ended: what the pool's `checkin` event says of
    the connections the pool takes back."""
    _ON_KEEP.append(callback)


def checkout(engine: Engine, thread_connection: bool) -> Any:
    """A pooled connection, the calling thread's own, or (an engine of an event loop) one
    the loop kept.

    The event loop runs every SQLite read and the grouped writes of its requests, one after
    another (`fleetsim.http.commit`): a connection of its own, kept out of the pool, spares
    each unit of work the pool's check-out, check-in and reset (and on PostgreSQL its ping,
    a round trip, unless the connection was idle for a while). A thread already in a
    transaction on its connection (a unit of work that opens another) gets a pooled one."""
    if is_loop_engine(engine):
        return _loop_connection(engine)
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


def _loop_connection(engine: Engine) -> Any:
    idle = _LOOP_CONNECTIONS.get(engine)
    if idle is None:
        idle = _LOOP_CONNECTIONS[engine] = []
        event.listen(engine, "engine_disposed", _close_loop_connections)
    while idle:
        connection = idle.pop()
        if _still_alive(engine, connection):
            return connection
        with contextlib.suppress(Exception):  # it may be gone already
            connection.invalidate()
    return engine.pool.connect()  # pinged when it was idle long (`_ping_when_idle`)


def _still_alive(engine: Engine, connection: Any) -> bool:
    """Whether a kept PostgreSQL connection (a thread's, or a loop's) still answers, asked
    only when it was idle long enough for the server to have gone away (a restart, a
    failover)."""
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
    was not committed), to its thread, or to its loop's idle ones."""
    end_write(engine, connection)
    if is_loop_engine(engine):
        _keep_loop_connection(engine, connection)
        return
    if not connection.is_detached:
        connection.close()
        return
    mark_used(connection.info)
    if _in_transaction(engine, connection):  # the rollback itself failed
        _forget_thread_connection(engine, connection)


def _keep_loop_connection(engine: Engine, connection: Any) -> None:
    idle = _LOOP_CONNECTIONS.get(engine)
    if idle is None or len(idle) >= _LOOP_CONNECTIONS_KEPT:
        connection.close()  # back to the pool, which resets it
    elif connection.driver_connection.is_closed() or _in_transaction(engine, connection):
        with contextlib.suppress(Exception):  # lost, or its rollback failed: open another
            connection.invalidate()
    else:
        mark_used(connection.info)
        idle.append(connection)
        for callback in _ON_KEEP:
            callback(connection.info)


def _in_transaction(engine: Engine, connection: Any) -> bool:
    dbapi = connection.dbapi_connection
    if dbapi is None:
        return True
    if is_sqlite(engine):
        return bool(dbapi.in_transaction)
    if engine.dialect.driver == "asyncpg":
        return bool(connection.driver_connection.is_in_transaction())
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


def _close_loop_connections(engine: Engine) -> None:
    """`engine.dispose()` closes the connections its loop kept too (on that loop: the
    loop's engines are disposed by `db.dialect.dispose_loop_engine`)."""
    for connection in _LOOP_CONNECTIONS.pop(engine, []):
        with contextlib.suppress(Exception):  # it may be gone already
            connection.invalidate()
