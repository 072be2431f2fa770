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
