"""The engine of the units of work that run on the event loop (`db.dialect.loop_engine`):
on PostgreSQL, asyncpg's connections, one pool per loop; on SQLite, not used."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.util import greenlet_spawn

from fleetsim.db import liveness
from fleetsim.db.dialect import (
    create_database_engine,
    dispose_loop_engine,
    is_sqlite,
    loop_engine,
    placeholders,
)
from fleetsim.db.notices import Listener
from fleetsim.db.units import transaction


def test_placeholders_are_written_as_each_driver_takes_them(engine: Engine) -> None:
    sql = "SELECT a FROM t WHERE b = ? AND c LIKE '5%' AND d IN (?, ?)"

    if is_sqlite(engine):
        assert placeholders(sql, engine.dialect) == sql
    else:
        assert placeholders(sql, engine.dialect) == sql.replace("%", "%%").replace("?", "%s")
        assert placeholders(sql, loop_engine_of(engine).dialect) == (
            "SELECT a FROM t WHERE b = $1 AND c LIKE '5%' AND d IN ($2, $3)"
        )


def loop_engine_of(engine: Engine) -> Engine:
    async def made() -> Engine:
        try:
            return loop_engine(engine)
        finally:
            await dispose_loop_engine(engine)

    return asyncio.run(made())


def test_a_connection_the_server_dropped_is_replaced(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: a server that ends connections")
    monkeypatch.setattr(liveness, "IDLE_BEFORE_PING", 0.0)

    def backend(tx_engine: Engine) -> int:
        with transaction(tx_engine, write=False) as tx:
            (pid,) = tx.one("SELECT pg_backend_pid()") or (0,)
        return int(pid)

    async def before_and_after() -> tuple[int, int]:
        try:
            on_the_loop = loop_engine(engine)
            before = await greenlet_spawn(backend, on_the_loop)
            with engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
            after = await greenlet_spawn(backend, on_the_loop)
            return before, after
        finally:
            await dispose_loop_engine(engine)

    before, after = asyncio.run(before_and_after())

    assert after != before


def test_each_loop_has_its_own_pool(engine: Engine) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: asyncpg's connections belong to their loop")
    first_loop, second_loop = asyncio.new_event_loop(), asyncio.new_event_loop()

    async def used() -> Engine:
        return loop_engine(engine)

    try:
        first = first_loop.run_until_complete(used())
        second = second_loop.run_until_complete(used())
        again = first_loop.run_until_complete(used())
    finally:
        for loop in (first_loop, second_loop):
            loop.run_until_complete(dispose_loop_engine(engine))
            loop.close()

    assert again is first
    assert second is not first


def test_a_tx_on_the_loop_reads_counts_and_refuses_as_the_adapter_does(
    engine: Engine,
) -> None:
    """The loop's Tx sends its statements through `db.asyncpg_cursor.AsyncpgCursor`:
    rows, counts of changed rows, and a violated constraint raised as the DBAPI error
    SQLAlchemy's adapter raises."""
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: SQLite has no engine of the loop")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE probe (id integer PRIMARY KEY, word text)")

    def work() -> dict[str, object]:
        on_the_loop = loop_engine(engine)
        seen: dict[str, object] = {}
        with transaction(on_the_loop, write=True) as tx:
            seen["changed"] = tx.execute(
                "INSERT INTO probe (id, word) VALUES (?, ?), (?, ?)", (1, "a", 2, "b")
            )
            seen["updated"] = tx.execute("UPDATE probe SET word = ? WHERE id > ?", ("c", 0))
            seen["none"] = tx.one("SELECT word FROM probe WHERE id = ?", (9,))
            seen["all"] = tx.all("SELECT id, word FROM probe ORDER BY id")
        with transaction(on_the_loop, write=True) as tx:
            try:
                tx.execute("INSERT INTO probe (id, word) VALUES (?, ?)", (1, "again"))
            except on_the_loop.dialect.loaded_dbapi.IntegrityError as error:
                seen["refused"] = "duplicate key" in str(error)
        return seen

    async def on_the_loop() -> dict[str, object]:
        try:
            return await greenlet_spawn(work)
        finally:
            await dispose_loop_engine(engine)

    seen = asyncio.run(on_the_loop())

    assert seen == {
        "changed": 2,
        "updated": 2,
        "none": None,
        "all": [(1, "c"), (2, "c")],
        "refused": True,
    }


def test_a_database_reached_through_its_unix_socket(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    """`postgresql://user@/db?host=/socket/folder`, as docs/operations.md suggests for a
    node on the database's machine: the threads' engine, the loop's and the listener."""
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: a cluster's Unix socket")
    cluster = request.getfixturevalue("pg_cluster")
    url = engine.url.set(host=None, port=None, query={"host": str(cluster.root)})
    url = url.update_query_dict({"port": str(cluster.port)})
    through_socket = create_database_engine(url.render_as_string(hide_password=False))
    heard: list[bool] = []

    def address(tx_engine: Engine) -> object:
        with transaction(tx_engine, write=False) as tx:
            (found,) = tx.one("SELECT inet_client_addr()") or (0,)
        return found

    async def on_the_loop() -> object:
        listener = Listener(through_socket, "probe", heard=lambda: None, listening=heard.append)
        await listener.start()
        try:
            return await greenlet_spawn(address, loop_engine(through_socket))
        finally:
            await listener.stop()
            await dispose_loop_engine(through_socket)

    try:
        from_a_thread = address(through_socket)
        from_the_loop = asyncio.run(on_the_loop())
    finally:
        through_socket.dispose()

    assert (from_a_thread, from_the_loop) == (None, None)  # no address: a Unix socket
    assert heard[0] is True


def test_the_loop_keeps_its_connections_between_units_and_closes_them_when_disposed(
    engine: Engine,
) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: SQLite has no engine of the loop")

    def backend(tx_engine: Engine) -> int:
        with transaction(tx_engine, write=False) as tx:
            (pid,) = tx.one("SELECT pg_backend_pid()") or (0,)
        return int(pid)

    async def three_units() -> list[int]:
        try:
            on_the_loop = loop_engine(engine)
            return [await greenlet_spawn(backend, on_the_loop) for _ in range(3)]
        finally:
            await dispose_loop_engine(engine)

    pids = asyncio.run(three_units())

    assert len(set(pids)) == 1  # one connection, kept from unit to unit
    # Its backend exits once it has read the client's goodbye: ask until it has.
    deadline = time.monotonic() + 5
    with engine.connect() as other:
        while other.execute(_BACKEND_SQL, {"pid": pids[0]}).scalar_one():
            assert time.monotonic() < deadline, "the kept connection was not closed"
            other.rollback()  # a new snapshot of pg_stat_activity


_BACKEND_SQL = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
