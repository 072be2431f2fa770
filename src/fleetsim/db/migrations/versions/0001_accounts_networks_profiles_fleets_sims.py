"""accounts, networks, profiles, fleets, sims

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fleetsim.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("friendly_name", sa.String(length=64), nullable=False),
        sa.Column("auth_token", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["accounts.id"], name=op.f("fk_accounts_parent_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("sid", name=op.f("uq_accounts_sid")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "networks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("friendly_name", sa.String(length=128), nullable=False),
        sa.Column("iso_country", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networks")),
        sa.UniqueConstraint("sid", name=op.f("uq_networks_sid")),
    )
    with op.batch_alter_table("networks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_networks_iso_country"), ["iso_country"], unique=False)

    op.create_table(
        "sim_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iccid", sa.String(length=20), nullable=False),
        sa.Column("registration_code", sa.String(length=32), nullable=False),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_cards")),
        sa.UniqueConstraint("iccid", name=op.f("uq_sim_cards_iccid")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("friendly_name", sa.String(length=64), nullable=True),
        sa.Column("secret_salt", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_api_keys_account_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("sid", name=op.f("uq_api_keys_sid")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_account_id"), ["account_id"], unique=False)

    op.create_table(
        "network_access_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("unique_name", sa.String(length=256), nullable=True),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_network_access_profiles_account_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_access_profiles")),
        sa.UniqueConstraint(
            "account_id",
            "unique_name",
            name=op.f("uq_network_access_profiles_account_id_unique_name"),
        ),
        sa.UniqueConstraint("sid", name=op.f("uq_network_access_profiles_sid")),
    )
    with op.batch_alter_table("network_access_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_network_access_profiles_account_id_id"),
            ["account_id", "id"],
            unique=False,
        )

    op.create_table(
        "network_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("mcc", sa.String(length=3), nullable=False),
        sa.Column("mnc", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_network_identifiers_network_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_identifiers")),
        sa.UniqueConstraint("mcc", "mnc", name=op.f("uq_network_identifiers_mcc_mnc")),
    )
    with op.batch_alter_table("network_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_identifiers_mnc"), ["mnc"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_network_identifiers_network_id"), ["network_id"], unique=False
        )

    op.create_table(
        "fleets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("unique_name", sa.String(length=256), nullable=True),
        sa.Column("network_access_profile_id", sa.Integer(), nullable=False),
        sa.Column("data_enabled", sa.Boolean(), nullable=False),
        sa.Column("data_limit", sa.Integer(), nullable=False),
        sa.Column("data_metering", sa.String(length=16), nullable=False),
        sa.Column("sms_commands_enabled", sa.Boolean(), nullable=False),
        sa.Column("sms_commands_url", sa.String(length=2048), nullable=True),
        sa.Column("sms_commands_method", sa.String(length=4), nullable=False),
        sa.Column("ip_commands_url", sa.String(length=2048), nullable=True),
        sa.Column("ip_commands_method", sa.String(length=4), nullable=False),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_fleets_account_id")),
        sa.ForeignKeyConstraint(
            ["network_access_profile_id"],
            ["network_access_profiles.id"],
            name=op.f("fk_fleets_network_access_profile_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleets")),
        sa.UniqueConstraint(
            "account_id", "unique_name", name=op.f("uq_fleets_account_id_unique_name")
        ),
        sa.UniqueConstraint("sid", name=op.f("uq_fleets_sid")),
    )
    with op.batch_alter_table("fleets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fleets_account_id_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fleets_account_id_network_access_profile_id_id"),
            ["account_id", "network_access_profile_id", "id"],
            unique=False,
        )

    op.create_table(
        "nap_networks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_access_profile_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_access_profile_id"],
            ["network_access_profiles.id"],
            name=op.f("fk_nap_networks_network_access_profile_id"),
        ),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_nap_networks_network_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nap_networks")),
        sa.UniqueConstraint(
            "network_access_profile_id",
            "network_id",
            name=op.f("uq_nap_networks_network_access_profile_id_network_id"),
        ),
    )
    with op.batch_alter_table("nap_networks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nap_networks_network_id"), ["network_id"], unique=False
        )

    op.create_table(
        "sims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("iccid", sa.String(length=20), nullable=False),
        sa.Column("unique_name", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fleet_id", sa.Integer(), nullable=True),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_sims_account_id")),
        sa.ForeignKeyConstraint(["fleet_id"], ["fleets.id"], name=op.f("fk_sims_fleet_id")),
        sa.ForeignKeyConstraint(["iccid"], ["sim_cards.iccid"], name=op.f("fk_sims_iccid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sims")),
        sa.UniqueConstraint(
            "account_id", "unique_name", name=op.f("uq_sims_account_id_unique_name")
        ),
        sa.UniqueConstraint("iccid", name=op.f("uq_sims_iccid")),
        sa.UniqueConstraint("sid", name=op.f("uq_sims_sid")),
    )
    with op.batch_alter_table("sims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sims_account_id_fleet_id_id"),
            ["account_id", "fleet_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sims_account_id_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sims_account_id_status_id"), ["account_id", "status", "id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("sims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sims_account_id_status_id"))
        batch_op.drop_index(batch_op.f("ix_sims_account_id_id"))
        batch_op.drop_index(batch_op.f("ix_sims_account_id_fleet_id_id"))

    op.drop_table("sims")
    with op.batch_alter_table("nap_networks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nap_networks_network_id"))

    op.drop_table("nap_networks")
    with op.batch_alter_table("fleets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleets_account_id_network_access_profile_id_id"))
        batch_op.drop_index(batch_op.f("ix_fleets_account_id_id"))

    op.drop_table("fleets")
    with op.batch_alter_table("network_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_identifiers_network_id"))
        batch_op.drop_index(batch_op.f("ix_network_identifiers_mnc"))

    op.drop_table("network_identifiers")
    with op.batch_alter_table("network_access_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_access_profiles_account_id_id"))

    op.drop_table("network_access_profiles")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_account_id"))

    op.drop_table("api_keys")
    op.drop_table("sim_cards")
    with op.batch_alter_table("networks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_networks_iso_country"))

    op.drop_table("networks")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_parent_id"))

    op.drop_table("accounts")
