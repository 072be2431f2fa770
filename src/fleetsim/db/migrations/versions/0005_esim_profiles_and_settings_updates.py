"""eSIM profiles, their stock, and settings updates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa
from alembic import op

import fleetsim.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# As fleetsim.resources.settings_updates.packages.BASE_PACKAGE was when this was written.
BASE_PACKAGE = {
    "name": "base-settings",
    "version": "1.0.0",
    "more_info": "https://twilio.com/docs/iot/supersim/settings-packages/base-settings",
}


def upgrade() -> None:
    op.create_table(
        "esim_stock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_esim_stock")),
    )
    op.create_table(
        "esim_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("eid", sa.String(length=32), nullable=True),
        sa.Column("generate_matching_id", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=True),
        sa.Column("iccid", sa.String(length=20), nullable=True),
        sa.Column("smdp_plus_address", sa.String(length=256), nullable=True),
        sa.Column("matching_id", sa.String(length=64), nullable=True),
        sa.Column("activation_code", sa.String(length=512), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("downloaded_by", sa.String(length=32), nullable=True),
        sa.Column("injected_error_code", sa.String(length=32), nullable=True),
        sa.Column("injected_error_message", sa.Text(), nullable=True),
        sa.Column("callback_url", sa.String(length=2048), nullable=True),
        sa.Column("callback_method", sa.String(length=4), nullable=True),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_esim_profiles_account_id")
        ),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_esim_profiles_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_esim_profiles")),
        sa.UniqueConstraint("sid", name=op.f("uq_esim_profiles_sid")),
        sa.UniqueConstraint("sim_id", name=op.f("uq_esim_profiles_sim_id")),
    )
    with op.batch_alter_table("esim_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_esim_profiles_account_id_eid_id"),
            ["account_id", "eid", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_esim_profiles_account_id_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_esim_profiles_account_id_status_id"),
            ["account_id", "status", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_esim_profiles_matching_id"), ["matching_id"], unique=False
        )

    op.create_table(
        "settings_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=False),
        sa.Column("iccid", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("packages", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("date_completed", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_settings_updates_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings_updates")),
        sa.UniqueConstraint("sid", name=op.f("uq_settings_updates_sid")),
    )
    with op.batch_alter_table("settings_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settings_updates_sim_id_id"), ["sim_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settings_updates_status_id"), ["status", "id"], unique=False
        )

    # Every Sim already registered has the base settings package from manufacture.
    connection = op.get_bind()
    sims = connection.execute(
        sa.text(
            "SELECT sims.id, sims.iccid, sim_cards.date_created FROM sims"
            " JOIN sim_cards ON sim_cards.iccid = sims.iccid"
        )
    ).all()
    if sims:
        base = json.dumps([BASE_PACKAGE], separators=(",", ":"))
        connection.execute(
            sa.text(
                "INSERT INTO settings_updates (sid, sim_id, iccid, status, packages, outcome,"
                " date_completed, date_created, date_updated) VALUES (:sid, :sim_id, :iccid,"
                " 'successful', :packages, 'successful', :made, :made, :made)"
            ),
            [
                {
                    "sid": "OB" + secrets.token_hex(16),
                    "sim_id": sim_id,
                    "iccid": iccid,
                    "packages": base,
                    "made": made,
                }
                for sim_id, iccid, made in sims
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("settings_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settings_updates_status_id"))
        batch_op.drop_index(batch_op.f("ix_settings_updates_sim_id_id"))

    op.drop_table("settings_updates")
    with op.batch_alter_table("esim_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_esim_profiles_matching_id"))
        batch_op.drop_index(batch_op.f("ix_esim_profiles_account_id_status_id"))
        batch_op.drop_index(batch_op.f("ix_esim_profiles_account_id_id"))
        batch_op.drop_index(batch_op.f("ix_esim_profiles_account_id_eid_id"))

    op.drop_table("esim_profiles")
    op.drop_table("esim_stock")
