"""The migrations build the schema the models describe, on both backends: a model changed
without its migration (or a migration that drops what a model still declares) fails here."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from fleetsim.db.dialect import is_sqlite
from fleetsim.db.tables import Base


def _sqlite_leaves_alone(difference: Any) -> bool:
    """Migration 0006 widens `accounts.auth_token` on PostgreSQL only: SQLite does not
    enforce VARCHAR lengths, so it keeps the old declared length."""
    return isinstance(difference, list) and difference[0][:4] == (
        "modify_type",
        None,
        "accounts",
        "auth_token",
    )


def test_the_migrated_database_has_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    if is_sqlite(engine):
        differences = [d for d in differences if not _sqlite_leaves_alone(d)]
    assert differences == []


def test_the_sims_iccid_filter_has_one_index(engine: Engine) -> None:
    """Migration 0009: the unique ICCID index serves the filter; the second one is gone."""
    names = {index["name"] for index in inspect(engine).get_indexes("sims")}
    assert "ix_sims_account_id_iccid" not in names
    assert "ix_sims_account_id_id" in names
