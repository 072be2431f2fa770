"""SQLite's WAL is copied back into the database by the engine's checkpoint thread, not by
the connection that commits (see `fleetsim.db.dialect`)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from fleetsim.db.dialect import WRITE, create_database_engine


def _grows(path: Path, beyond: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.stat().st_size > beyond:
            return True
        time.sleep(0.05)  # polling the file, with a bound: the thread runs on real time
    return False


def test_commits_leave_the_wal_to_the_checkpoint_thread(tmp_path: Path) -> None:
    database = tmp_path / "checkpoints.db"
    engine = create_database_engine(f"sqlite:///{database}")
    try:
        with engine.execution_options(**{WRITE: True}).begin() as connection:
            connection.execute(text("CREATE TABLE filler (body TEXT)"))
        before = database.stat().st_size
        with engine.connect() as connection:
            (autocheckpoint,) = connection.execute(text("PRAGMA wal_autocheckpoint")).one()
        assert autocheckpoint == 0  # commits never checkpoint

        for _ in range(20):  # far more than the 1,000 pages of SQLite's own checkpoint
            with engine.execution_options(**{WRITE: True}).begin() as connection:
                rows = [{"body": "x" * 4000} for _ in range(100)]
                connection.execute(text("INSERT INTO filler (body) VALUES (:body)"), rows)

        assert _grows(database, before + 1_000_000, within=10.0), "no checkpoint copied the WAL"
    finally:
        engine.dispose()
