"""Bring a database to the newest schema; runs on every start of a server or worker."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine

from fleetsim.db.dialect import WRITE, lock_for_migration

__all__ = ["NewerSchema", "alembic_config", "is_current", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class NewerSchema(Exception):
    """The database was migrated by a newer fleetsim: its schema is one this one does not
    know (a node left behind in an upgrade, say), so it must not touch it."""

    def __init__(self, revision: str, head: str | None) -> None:
        super().__init__(f"the database's schema is {revision}; this fleetsim knows up to {head}")
        self.revision = revision
        self.head = head


def upgrade(engine: Engine) -> None:
    """Migrate to this fleetsim's newest schema; `NewerSchema` when the database is past it."""
    config = alembic_config()
    scripts = ScriptDirectory.from_config(config)
    with engine.execution_options(**{WRITE: True}).begin() as connection:
        lock_for_migration(connection)
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None:
            try:
                scripts.get_revision(current)
            except CommandError:
                raise NewerSchema(current, scripts.get_current_head()) from None
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
