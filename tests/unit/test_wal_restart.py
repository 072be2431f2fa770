"""Under writes that never pause, the checkpoint thread of a SQLite database still lets
the WAL start again from its beginning (`db.dialect._checkpoint`): without that, every
frame ever written stays in the WAL, which grows as long as the writes go on."""

from __future__ import annotations

import struct
import threading
from pathlib import Path

import pytest

from fleetsim.db import dialect
from fleetsim.db.dialect import create_database_engine, wait_for_checkpoint
from fleetsim.db.units import transaction


def _wal_restarts(wal: Path) -> int:
    """The WAL header's checkpoint sequence number: one more each time the WAL starts
    again from its beginning."""
    with wal.open("rb") as header:
        (sequence,) = struct.unpack(">I", header.read(16)[12:16])
    return int(sequence)


def test_the_wal_starts_again_while_writes_keep_coming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dialect, "_WAL_RESTART_FRAMES", 20)
    engine = create_database_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    wal = tmp_path / "busy.db-wal"
    with transaction(engine, write=True) as tx:
        tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    first = _wal_restarts(wal)
    stop = threading.Event()
    commits = [0]

    def write_without_pause() -> None:
        while not stop.is_set():
            with transaction(engine, write=True) as tx:
                tx.execute("INSERT INTO notes (body) VALUES (?)", ("x" * 2000,))
            commits[0] += 1

    writer = threading.Thread(target=write_without_pause)
    writer.start()
    try:
        restarted = False
        for _ in range(20):  # checkpoints, each a quarter second apart
            assert wait_for_checkpoint(engine, timeout=10)
            if _wal_restarts(wal) != first:
                restarted = True
                break
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert commits[0] > 0
    assert restarted, f"the WAL never started again in {commits[0]} commits"


def test_an_idle_wal_is_left_alone_once_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once writes stop, the WAL keeps its length until the next write starts it again:
    the checkpoint then finds every frame copied, and must not hold the writers back."""
    monkeypatch.setattr(dialect, "_WAL_RESTART_FRAMES", 20)
    engine = create_database_engine(f"sqlite:///{tmp_path / 'idle.db'}")
    with transaction(engine, write=True) as tx:
        tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    for _ in range(40):
        with transaction(engine, write=True) as tx:
            tx.execute("INSERT INTO notes (body) VALUES (?)", ("x" * 2000,))
    connection = engine.raw_connection()
    writers = dialect._WRITERS[engine]
    try:
        copied = dialect._checkpoint(engine, connection.cursor())
        assert copied >= 20  # copied under the turn: the WAL's length

        # A writer of this process holds its turn: the idle WAL needs nothing from it.
        results: list[int] = []
        assert writers.acquire(timeout=5)
        try:
            again = threading.Thread(
                target=lambda: results.append(
                    dialect._checkpoint(engine, connection.cursor(), copied)
                )
            )
            again.start()
            again.join(timeout=5)
            assert not again.is_alive(), "the checkpoint waited for the writers' turn"
        finally:
            writers.release()
        again.join()
        assert results == [copied]

        with transaction(engine, write=True) as tx:  # starts the WAL again
            tx.execute("INSERT INTO notes (body) VALUES (?)", ("x",))
        assert dialect._checkpoint(engine, connection.cursor(), copied) == 0
    finally:
        connection.close()
        engine.dispose()
