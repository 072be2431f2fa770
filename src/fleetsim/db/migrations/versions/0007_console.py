"""the web console: bulk operations, the session-signing secret, the ICCID search index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fleetsim.db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("fleet_sid", sa.String(length=34), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("created_at", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bulk_operations_account_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_operations")),
    )
    with op.batch_alter_table("bulk_operations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulk_operations_account_id_id"), ["account_id", "id"], unique=False
        )
    with op.batch_alter_table("sims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sims_account_id_iccid"), ["account_id", "iccid"], unique=False
        )
    op.create_table(
        "console_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_secrets")),
    )


def downgrade() -> None:
    op.drop_table("console_secrets")
    with op.batch_alter_table("sims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sims_account_id_iccid"))
    with op.batch_alter_table("bulk_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_operations_account_id_id"))
    op.drop_table("bulk_operations")
