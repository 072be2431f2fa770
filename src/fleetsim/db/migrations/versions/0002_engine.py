"""jobs, webhooks, clock, policies, sim lifecycle

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fleetsim.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "clock_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("manual_now", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clock_state")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_state_due_at"), ["state", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_jobs_subject_state"), ["subject", "state"], unique=False
        )

    op.create_table(
        "operator_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("secret_salt", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_credentials")),
        sa.UniqueConstraint("username", name=op.f("uq_operator_credentials_username")),
    )
    op.create_table(
        "progression_policies",
        sa.Column("lifecycle", sa.String(length=32), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("delay_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("lifecycle", name=op.f("pk_progression_policies")),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("method", sa.String(length=4), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_webhooks_account_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhooks_account_id_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhooks_state_id"), ["state", "id"], unique=False)

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_attempts_webhook_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_attempts_webhook_id_id"), ["webhook_id", "id"], unique=False
        )

    op.create_table(
        "sim_status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fleet_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fleet_id"], ["fleets.id"], name=op.f("fk_sim_status_events_fleet_id")
        ),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_sim_status_events_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_status_events")),
    )
    with op.batch_alter_table("sim_status_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sim_status_events_sim_id_id"), ["sim_id", "id"], unique=False
        )

    with op.batch_alter_table("sims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settled_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("target_status", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                "fleet_change_pending", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("target_fleet_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("callback_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("callback_method", sa.String(length=4), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sims_target_fleet_id"), "fleets", ["target_fleet_id"], ["id"]
        )


def downgrade() -> None:

    with op.batch_alter_table("sims", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sims_target_fleet_id"), type_="foreignkey")
        batch_op.drop_column("callback_method")
        batch_op.drop_column("callback_url")
        batch_op.drop_column("target_fleet_id")
        batch_op.drop_column("fleet_change_pending")
        batch_op.drop_column("target_status")
        batch_op.drop_column("settled_status")

    with op.batch_alter_table("sim_status_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sim_status_events_sim_id_id"))

    op.drop_table("sim_status_events")
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_webhook_id_id"))

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_state_id"))
        batch_op.drop_index(batch_op.f("ix_webhooks_account_id_id"))

    op.drop_table("webhooks")
    op.drop_table("progression_policies")
    op.drop_table("operator_credentials")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_subject_state"))
        batch_op.drop_index(batch_op.f("ix_jobs_state_due_at"))

    op.drop_table("jobs")
    op.drop_table("clock_state")
