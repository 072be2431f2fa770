"""SQLite's WAL is copied back into the database by the engine's checkpoint thread, not by
the connection that commits (see `fleetsim.db.dialect`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from fleetsim.db.dialect import WRITE, create_database_engine, wait_for_checkpoint


def test_commits_leave_the_wal_to_the_checkpoint_thread(tmp_path: Path) -> None:
    database = tmp_path / "checkpoints.db"
    engine = create_database_engine(f"sqlite:///{database}")
    try:
        with engine.execution_options(**{WRITE: True}).begin() as connection:
            connection.execute(text("CREATE TABLE filler (body TEXT)"))
        with engine.connect() as connection:
            (autocheckpoint,) = connection.execute(text("PRAGMA wal_autocheckpoint")).one()
        assert autocheckpoint == 0  # commits never checkpoint
        assert wait_for_checkpoint(engine, timeout=10.0)
        before = database.stat().st_size

        for _ in range(20):  # far more than the 1,000 pages of SQLite's own checkpoint
            with engine.execution_options(**{WRITE: True}).begin() as connection:
                rows = [{"body": "x" * 4000} for _ in range(100)]
                connection.execute(text("INSERT INTO filler (body) VALUES (:body)"), rows)

        assert wait_for_checkpoint(engine, timeout=10.0), "no checkpoint was made"
        assert database.stat().st_size > before + 1_000_000  # copied into the database
    finally:
        engine.dispose()
