"""On PostgreSQL, notify the channel `fleetsim_credentials` when a transaction that
changed a credential commits: an update or delete of accounts, api_keys or api_clients
(new ones need no notice: a failed authentication is never kept). Every node listens,
and forgets the credentials it keeps in memory (`fleetsim.resources.accounts.cache`).
SQLite keeps none, and gets no trigger.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLES = ("accounts", "api_keys", "api_clients")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # A statement-level trigger: one notice per statement, however many rows, and
    # PostgreSQL sends one per transaction whatever the number of statements.
    op.execute(
        "CREATE FUNCTION fleetsim_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_notify('fleetsim_credentials', ''); RETURN NULL; END $$"
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_credentials_changed "
            f"AFTER UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION fleetsim_credentials_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"DROP TRIGGER {table}_credentials_changed ON {table}")
    op.execute("DROP FUNCTION fleetsim_credentials_changed()")
