"""Everything that differs between SQLite and PostgreSQL lives here, and only here."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import in_greenlet

from fleetsim.db.asyncpg_cursor import AsyncpgCursor
from fleetsim.db.liveness import idle_long, mark_used
from fleetsim.db.turns import TurnLock

__all__ = [
    "DEFAULT_DATABASE_URL",
    "IN_TRANSACTION",
    "WRITE",
    "add_or_insert",
    "begin_read",
    "begin_write",
    "create_database_engine",
    "database_key",
    "dispose_loop_engine",
    "end_statements",
    "end_write",
    "end_writer_turn",
    "engine_here",
    "for_update",
    "is_loop_engine",
    "is_sqlite",
    "loop_engine",
    "needs_block",
    "normalize_url",
    "open_block",
    "placeholders",
    "statement_cursor",
    "take_writer_turn",
    "unique_violation",
    "wait_for_checkpoint",
]

log = logging.getLogger("fleetsim.db")

DEFAULT_DATABASE_URL = "sqlite:///fleetsim.db"
# Execution option that marks a connection as about to write (see `_begin`).
WRITE = "fleetsim_write"
# Marks a pooled connection whose transaction a `fleetsim.db.units.transaction` began:
# an ORM session opened on it must not begin another.
IN_TRANSACTION = "fleetsim_in_transaction"
_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """Accept the URLs people type: `postgresql://` means psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def placeholders(sql: str, dialect: Dialect) -> str:
    """`sql`, written with `?` placeholders, as `dialect`'s driver takes it."""
    return _placeholders(sql, dialect.driver)


@functools.lru_cache(maxsize=512)
def _placeholders(sql: str, driver: str) -> str:
    if driver == "pysqlite":
        return sql
    if driver == "asyncpg":
        parts = sql.split("?")
        numbered = (f"{part}${n}" for n, part in enumerate(parts[:-1], start=1))
        return "".join(numbered) + parts[-1]
    return sql.replace("%", "%%").replace("?", "%s")  # psycopg


def statement_cursor(connection: Any, dialect: Dialect) -> Any:
    """The cursor a `fleetsim.db.store.Tx` runs its statements with on `connection`, a
    pooled DBAPI connection: the driver's, or on asyncpg an `AsyncpgCursor`."""
    if dialect.driver == "asyncpg":
        return AsyncpgCursor(connection.dbapi_connection)
    return connection.cursor()


# The PostgreSQL engines of the event loops (see `loop_engine`), by engine and loop.
_LOOP_ENGINES: weakref.WeakKeyDictionary[Engine, dict[asyncio.AbstractEventLoop, AsyncEngine]] = (
    weakref.WeakKeyDictionary()
)
_LOOP_ENGINES_LOCK = threading.Lock()
# The engines `loop_engine` made (their sync side, which units of work run on).
_LOOP_SYNC_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
# Each engine's `database_key`, worked out once.
_DATABASE_KEYS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()
# Each event loop's pool: a connection for each unit of work a node runs at once, opened as
# it is needed and then kept; a burst beyond the kept ones opens more, closed again after.
# A pool that kept fewer than the clients under load started a PostgreSQL backend for most
# requests, and one that made them wait for a connection paid the wait (bench/api.py).
_LOOP_POOL = {"pool_size": 32, "max_overflow": 32}


def loop_engine(engine: Engine) -> Engine:
    """The engine a unit of work runs on when it runs on the event loop (in a greenlet,
    `db.greenlets.in_greenlet`): on PostgreSQL, the same database through asyncpg,
    whose round trips wait on the loop without holding it. Psycopg's blocking round trips
    had to run on threads, and each unit paid their hand-offs and the contention for the
    GIL (`bench/inprocess.py --postgres` measures both: bench/README.md).

    One engine per loop and engine: asyncpg's connections belong to the loop that opened
    them. `dispose_loop_engine` closes the loop's, on that loop."""
    loop = asyncio.get_running_loop()
    with _LOOP_ENGINES_LOCK:
        engines = _LOOP_ENGINES.setdefault(engine, {})
        found = engines.get(loop)
        if found is None:
            url = engine.url.set(drivername="postgresql+asyncpg")
            found = engines[loop] = create_async_engine(url, **_LOOP_POOL)
            _ping_when_idle(found.sync_engine)
            _LOOP_SYNC_ENGINES.add(found.sync_engine)
    return found.sync_engine


def is_loop_engine(engine: Engine) -> bool:
    """Whether `engine` is one that `loop_engine` made."""
    return engine in _LOOP_SYNC_ENGINES


def database_key(engine: Engine) -> str:
    """The database `engine` reaches, the same for every engine of this process that
    reaches it (whatever its driver, or its loop): what the process keeps about a
    database is kept under it."""
    key = _DATABASE_KEYS.get(engine)
    if key is None:
        url = engine.url.set(drivername=engine.url.get_backend_name())
        key = _DATABASE_KEYS[engine] = url.render_as_string(hide_password=False)
    return key


def engine_here(engine: Engine) -> Engine:
    """The engine for a statement run outside the caller's transaction (the shared clock
    reads its time so): `loop_engine`'s when called from a unit of work on the event loop,
    whose round trips must not hold the loop; else `engine`."""
    if is_sqlite(engine) or not in_greenlet():
        return engine
    return loop_engine(engine)


async def dispose_loop_engine(engine: Engine) -> None:
    """Close the connections `loop_engine` opened for `engine` on the running loop."""
    loop = asyncio.get_running_loop()
    with _LOOP_ENGINES_LOCK:
        found = _LOOP_ENGINES.get(engine, {}).pop(loop, None)
    if found is not None:
        await found.dispose()


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection at check-out when it was idle long (`db.liveness`), and
    open another in its place when the ping fails."""

    @event.listens_for(engine.pool, "checkin")
    def _used(_dbapi: Any, record: Any) -> None:
        if record is not None:
            mark_used(record.info)

    @event.listens_for(engine.pool, "checkout")
    def _check(dbapi: Any, record: Any, _proxy: Any) -> None:
        if not idle_long(record.info):
            return
        try:
            dbapi.ping()
        except Exception as exc:  # the driver's, whatever went wrong: open another
            raise DisconnectionError() from exc


def create_database_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see `_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's (see below)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        # 64 MiB of page cache (the default is 2 MiB): usage tables are written in bulk
        # and read by range, and index pages that stay cached make both fast.
        cursor.execute("PRAGMA cache_size=-65536")
        # Every request's writes run in a savepoint (group commit), and SQLite keeps a
        # savepoint's journal in a temporary file unless told otherwise: in memory, an
        # insert in a savepoint skips that file's I/O.
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    # SQLite has one writer at a time. This process's writers (requests, the job worker,
    # the UDP bridge) take turns on this lock, each woken as soon as the previous one ends,
    # rather than in SQLite's busy handler, which polls with sleeps of 1, 2, 5, 10... ms.
    # Other processes still meet the busy handler.
    writer = TurnLock()  # in turn: the job worker's batches would starve the requests
    _WRITERS[engine] = writer
    if database and database != ":memory:":
        _start_checkpointer(engine, Path(f"{database}-wal"))

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if connection.info.get(IN_TRANSACTION):
            return
        # A transaction that will write takes the write lock up front: a deferred one
        # that reads first fails with SQLITE_BUSY (no waiting) when another writer
        # committed in between.
        if not connection.get_execution_options().get(WRITE):
            connection.exec_driver_sql("BEGIN")
            return
        if not connection.info.get(_HOLDS_WRITER):
            if not writer.acquire(timeout=_WRITER_TIMEOUT):
                raise TimeoutError("another writer of this process kept the database for 30 s")
            connection.info[_HOLDS_WRITER] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def _release(_dbapi: Any, record: Any, *_: Any) -> None:
        # When the connection goes back to the pool, after its COMMIT or ROLLBACK has
        # completed (the engine's commit and rollback events come before them).
        if record is not None and record.info.pop(_HOLDS_WRITER, False):
            writer.release()

    event.listen(engine.pool, "checkin", _release)
    event.listen(engine.pool, "invalidate", _release)
    return engine


_HOLDS_WRITER = "fleetsim_holds_writer"
_WRITER_TIMEOUT = 30.0
_WRITERS: weakref.WeakKeyDictionary[Engine, TurnLock] = weakref.WeakKeyDictionary()


def take_writer_turn(engine: Engine, given: Callable[[], None]) -> bool:
    """Take this process's turn to write `engine` (SQLite) at once (True), or ask for it
    without blocking: `given` is called, by the thread whose turn ends before, once the
    turn is the caller's. Either way the turn then goes to `begin_write(turn_taken=True)`."""
    return _WRITERS[engine].acquire_or_call(given)


def end_writer_turn(engine: Engine) -> None:
    """End a turn of `take_writer_turn` that began no transaction."""
    _WRITERS[engine].release()


def begin_write(engine: Engine, connection: Any, *, wait: bool, turn_taken: bool = False) -> bool:
    """Begin a write transaction on `connection`, a pooled DBAPI connection of `engine`.
    Without `wait`, only when that needs no waiting (False when another writer holds the
    database): for writes on the event loop, which must never block it (see
    `fleetsim.http.commit`). With `turn_taken`, this process's turn to write is the
    caller's already (`take_writer_turn`), and ends with the transaction.

    PostgreSQL never waits to begin, and begins nothing yet: the statements run alone
    (autocommit) until the first that `needs_block`, which `open_block` begins the
    transaction block for. Reads before it see what they would see in the block (under READ
    COMMITTED each statement takes its own snapshot either way, and a plain SELECT takes no
    row lock), and a unit whose one write is its last statement runs that write alone,
    atomic by itself, sparing BEGIN and COMMIT their round trips (`Tx.insert`'s `last`).
    A row lock meets the statement that takes it."""
    if not is_sqlite(engine):
        connection.dbapi_connection.autocommit = True
        return True
    writer = _WRITERS[engine]
    if turn_taken:
        acquired = True
    elif wait:
        acquired = writer.acquire(timeout=_WRITER_TIMEOUT)
    else:
        acquired = writer.acquire(blocking=False)
    if not acquired:
        if wait:
            raise TimeoutError("another writer of this process kept the database for 30 s")
        return False
    connection.info[_HOLDS_WRITER] = True  # released when it goes back to the pool
    cursor = connection.cursor()
    if wait:
        cursor.execute("BEGIN IMMEDIATE")
        cursor.close()
        return True
    try:
        # Another process may hold SQLite's own lock: fail at once rather than wait.
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        finally:
            cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
    return True


def begin_read(engine: Engine, connection: Any) -> None:
    """Begin a transaction that only reads, on `connection`, a pooled DBAPI connection.

    On SQLite, one snapshot for all its statements. On PostgreSQL, none at all: under READ
    COMMITTED every statement takes its own snapshot even inside a transaction, so BEGIN
    and COMMIT would add two round trips to the server and change nothing (a read that
    needs a block gets one: `open_block`)."""
    if is_sqlite(engine):
        connection.cursor().execute("BEGIN")
    else:
        connection.dbapi_connection.autocommit = True


def open_block(engine: Engine, connection: Any) -> None:
    """Let a transaction begun by `begin_read` or `begin_write` run in a transaction block
    from its next statement on (PostgreSQL; SQLite began one already): for a statement
    that `needs_block`, and for an ORM session, which works in a savepoint."""
    if not is_sqlite(engine):
        connection.dbapi_connection.autocommit = False


def end_statements(engine: Engine, connection: Any) -> None:
    """What `begin_read` and `begin_write` changed on `connection`, undone, once its
    transaction has ended."""
    if is_sqlite(engine):
        return
    dbapi = connection.dbapi_connection
    if dbapi is None or not dbapi.autocommit:
        return
    try:
        dbapi.autocommit = False
    except engine.dialect.loaded_dbapi.Error:  # psycopg's, on a connection that broke
        connection.invalidate()


# What makes a SELECT more than a read: a row or advisory lock, which lasts as long as
# the transaction block, a change a rollback would undo, or the transaction's own id.
# `for_update` writes the row locks.
_MORE_THAN_A_READ = re.compile(
    r"\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b"
    r"|advisory|pg_notify|nextval|setval|set_config|txid_current|pg_current_xact_id",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1024)
def needs_block(sql: str) -> bool:
    """Whether `sql` must run in the transaction block (see `begin_write`): every
    statement but a plain SELECT."""
    plain_read = sql.lstrip()[:6].upper() == "SELECT" and not _MORE_THAN_A_READ.search(sql)
    return not plain_read


def end_write(engine: Engine, connection: Any) -> None:
    """Let this process's next writer begin, once `connection`'s write transaction has
    ended (committed or rolled back). A pooled connection that is handed back without it
    does the same on check-in."""
    if connection.info.pop(_HOLDS_WRITER, False):
        _WRITERS[engine].release()


_CHECKPOINT_INTERVAL = 0.25  # seconds
# WAL frames (pages) past which the checkpoint holds this process's writes back (see
# `_checkpoint`); SQLite's own automatic checkpoint begins at 1,000.
_WAL_RESTART_FRAMES = 4_000


class _Checkpoints:
    """How many checkpoints an engine's thread has made, for those who wait for one."""

    def __init__(self) -> None:
        self.made = 0
        self.changed = threading.Condition()

    def count(self) -> None:
        with self.changed:
            self.made += 1
            self.changed.notify_all()


_CHECKPOINTS: weakref.WeakKeyDictionary[Engine, _Checkpoints] = weakref.WeakKeyDictionary()


def wait_for_checkpoint(engine: Engine, timeout: float) -> bool:
    """Whether the checkpoint thread of `engine` (a SQLite file database) completes a
    checkpoint begun after this call, within `timeout` seconds."""
    checkpoints = _CHECKPOINTS[engine]
    with checkpoints.changed:
        # The one under way may have begun before the call: wait for the one after it.
        target = checkpoints.made + 2
        return checkpoints.changed.wait_for(lambda: checkpoints.made >= target, timeout)


def _start_checkpointer(engine: Engine, wal: Path) -> None:
    """Copy the WAL back into the database from a thread of its own, every quarter second.

    SQLite's own checkpoint runs in the connection whose commit finds the WAL past 1,000
    pages: for writes committed on the event loop, that would stall the loop meanwhile (see
    `bench/api.py --cases sms`). A PASSIVE checkpoint never blocks a reader or a writer,
    and its I/O runs without the GIL. The thread ends with the engine."""
    stop = threading.Event()
    engine_ref = weakref.ref(engine)
    done = _CHECKPOINTS[engine] = _Checkpoints()

    def checkpoint() -> None:
        copied_under_turn = 0
        while not stop.wait(_CHECKPOINT_INTERVAL):
            current = engine_ref()
            if current is None:
                return
            if not wal.exists():  # nothing to copy; and never create the database
                continue
            try:
                connection = current.raw_connection()
                try:
                    copied_under_turn = _checkpoint(current, connection.cursor(), copied_under_turn)
                finally:
                    connection.close()
                done.count()
            except Exception:  # e.g. the database was removed under a disposed engine
                log.debug("a WAL checkpoint of %s failed", current.url, exc_info=True)
            del current

    event.listen(engine, "engine_disposed", lambda _engine: stop.set())
    weakref.finalize(engine, stop.set)
    threading.Thread(target=checkpoint, name="fleetsim-wal-checkpoint", daemon=True).start()


def _checkpoint(engine: Engine, cursor: Any, copied_under_turn: int = 0) -> int:
    """Copy the WAL back into the database without blocking anyone; and when the WAL has
    grown long, copy what is left while this process's writes wait their turn. Gives the
    WAL's length when that copy finished it (else 0), for the next call as
    `copied_under_turn`.

    Under a steady stream of writes, a checkpoint alongside them never copies the last
    frames, which keep coming, and SQLite starts the WAL again from its beginning only
    once every frame is copied: the WAL file would grow for as long as the writes go on,
    every frame ever written kept in it. With this process's writers waiting, the copy
    ends, and the next write starts the WAL again. Until that write, the WAL keeps its
    length, every frame copied: nothing to wait for, so the writers are left alone."""
    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    _busy, wal_frames, copied = cursor.fetchone()
    if wal_frames < _WAL_RESTART_FRAMES:
        return 0
    if wal_frames == copied == copied_under_turn:  # no write since: the idle case
        return copied_under_turn
    writers = _WRITERS[engine]
    if not writers.acquire(timeout=_WRITER_TIMEOUT):
        return 0
    try:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, wal_frames, copied = cursor.fetchone()
    finally:
        writers.release()
    return wal_frames if copied == wal_frames else 0


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>.+)$")


def unique_violation(
    error: IntegrityError | Exception, table: str, columns: tuple[str, ...]
) -> bool:
    """True when `error` (SQLAlchemy's, or the driver's own) is the unique constraint of
    `table` over exactly `columns`."""
    driver_error = error.orig if isinstance(error, IntegrityError) else error
    message = str(driver_error)
    match = _SQLITE_UNIQUE.search(message)
    if match:
        failed = tuple(c.strip().split(".")[-1] for c in match["columns"].split(","))
        return match["columns"].startswith(f"{table}.") and failed == columns
    diag = getattr(driver_error, "diag", None)  # psycopg's
    constraint = getattr(diag, "constraint_name", None)
    if constraint is None and driver_error is not None:  # asyncpg's, as SQLAlchemy adapts it
        constraint = getattr(driver_error.__cause__, "constraint_name", None)
    return constraint == f"uq_{table}_{'_'.join(columns)}"


def lock_for_migration(connection: Connection) -> None:
    """Serialize concurrent start-ups that would migrate the same database."""
    if is_sqlite(connection):
        return  # the migration's write transaction already holds SQLite's only lock
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7020436)")


def lock_for_startup(connection: Connection) -> None:
    """Serialize the start-up transactions of nodes sharing one database: each creates
    the rows every node needs once (the clock, the catalogue, the operator) when they are
    missing, and two nodes starting together would otherwise both insert them."""
    if is_sqlite(connection):
        return  # a write transaction already holds SQLite's only lock
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7020437)")


def for_update(bind: Engine | Connection | Dialect, table: str) -> str:
    """The clause that locks the rows a SELECT reads of `table` (a name or alias) until
    the transaction ends (PostgreSQL); SQLite's writer holds the whole database."""
    name = bind.name if isinstance(bind, Dialect) else bind.dialect.name
    return "" if name == "sqlite" else f" FOR UPDATE OF {table}"


def add_or_insert(
    connection: Connection, table: Table, keys: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert `rows` into `table`; a row whose `keys` (a unique constraint) exist already
    adds its `upload` and `download` to the stored ones instead (atomically, one
    statement executed for all rows)."""
    if not rows:
        return
    module: Any = sqlite if is_sqlite(connection) else postgresql
    statement = module.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            "upload": table.c.upload + statement.excluded.upload,
            "download": table.c.download + statement.excluded.download,
        },
    )
    connection.execute(statement, list(rows))
