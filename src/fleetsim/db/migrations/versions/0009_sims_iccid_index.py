"""Drop the Sims' (account_id, iccid) index: the unique ICCID index answers the same
lookups (an ICCID is one card, whichever account holds it), and every registration
wrote both, a page at a random place each.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sims_account_id_iccid"))


def downgrade() -> None:
    with op.batch_alter_table("sims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sims_account_id_iccid"), ["account_id", "iccid"], unique=False
        )
