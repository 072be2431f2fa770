"""the simulated network

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fleetsim.db.types
from fleetsim.core.iccid import imei_for

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "event_sinks",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_event_sinks_account_id")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_event_sinks")),
    )
    op.create_table(
        "billing_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=False),
        sa.Column("period_type", sa.String(length=8), nullable=False),
        sa.Column("start_time", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("end_time", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("data_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sms_count", sa.Integer(), nullable=False),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_billing_periods_account_id")
        ),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_billing_periods_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_periods")),
        sa.UniqueConstraint("sid", name=op.f("uq_billing_periods_sid")),
    )
    with op.batch_alter_table("billing_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_periods_sim_id_id"), ["sim_id", "id"], unique=False
        )

    op.create_table(
        "connection_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=96), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("occurred_at", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_connection_events_account_id")
        ),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_connection_events_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_events")),
        sa.UniqueConstraint("sid", name=op.f("uq_connection_events_sid")),
    )
    with op.batch_alter_table("connection_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connection_events_account_id_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_connection_events_sim_id_id"), ["sim_id", "id"], unique=False
        )

    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=False),
        sa.Column("imei", sa.String(length=15), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=True),
        sa.Column("ip_address", sa.String(length=15), nullable=True),
        sa.Column("attached_at", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.Column("data_session_sid", sa.String(length=34), nullable=True),
        sa.Column("session_started_at", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.Column("session_upload", sa.BigInteger(), nullable=False),
        sa.Column("session_download", sa.BigInteger(), nullable=False),
        sa.Column("data_blocked", sa.Boolean(), nullable=False),
        sa.Column("udp_host", sa.String(length=64), nullable=True),
        sa.Column("udp_port", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_devices_network_id")
        ),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_devices_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("sim_id", name=op.f("uq_devices_sim_id")),
    )
    op.create_table(
        "ip_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=False),
        sa.Column("sim_iccid", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_type", sa.String(length=8), nullable=False),
        sa.Column("device_ip", sa.String(length=15), nullable=True),
        sa.Column("device_port", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("callback_url", sa.String(length=2048), nullable=True),
        sa.Column("callback_method", sa.String(length=4), nullable=True),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ip_commands_account_id")
        ),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_ip_commands_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_commands")),
        sa.UniqueConstraint("sid", name=op.f("uq_ip_commands_sid")),
    )
    with op.batch_alter_table("ip_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ip_commands_account_id_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ip_commands_account_id_sim_iccid_id"),
            ["account_id", "sim_iccid", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ip_commands_account_id_sim_id_id"),
            ["account_id", "sim_id", "id"],
            unique=False,
        )

    op.create_table(
        "sms_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("callback_url", sa.String(length=2048), nullable=True),
        sa.Column("callback_method", sa.String(length=4), nullable=True),
        sa.Column("expires_at", fleetsim.db.types.UTCDateTime(), nullable=True),
        sa.Column("date_created", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("date_updated", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sms_commands_account_id")
        ),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_sms_commands_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_commands")),
        sa.UniqueConstraint("sid", name=op.f("uq_sms_commands_sid")),
    )
    with op.batch_alter_table("sms_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_commands_account_id_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sms_commands_account_id_sim_id_id"),
            ["account_id", "sim_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sms_commands_sim_id_status"), ["sim_id", "status"], unique=False
        )

    op.create_table(
        "usage_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sim_id", sa.Integer(), nullable=False),
        sa.Column("fleet_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("iso_country", sa.String(length=2), nullable=False),
        sa.Column("hour", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("upload", sa.BigInteger(), nullable=False),
        sa.Column("download", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_usage_hours_account_id")
        ),
        sa.ForeignKeyConstraint(["fleet_id"], ["fleets.id"], name=op.f("fk_usage_hours_fleet_id")),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_usage_hours_network_id")
        ),
        sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=op.f("fk_usage_hours_sim_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_hours")),
        sa.UniqueConstraint(
            "sim_id",
            "fleet_id",
            "network_id",
            "hour",
            name=op.f("uq_usage_hours_sim_id_fleet_id_network_id_hour"),
        ),
    )
    with op.batch_alter_table("usage_hours", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_hours_account_id_fleet_id_hour"),
            ["account_id", "fleet_id", "hour"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_usage_hours_account_id_hour"), ["account_id", "hour"], unique=False
        )

    op.create_table(
        "device_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("command_sid", sa.String(length=34), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_type", sa.String(length=8), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("received_at", fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_messages_device_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_messages")),
    )
    with op.batch_alter_table("device_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_messages_device_id_id"), ["device_id", "id"], unique=False
        )

    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("json_body", sa.Text(), nullable=True))

    # Every registered Sim has a device.
    connection = op.get_bind()
    sims = connection.execute(sa.text("SELECT id FROM sims")).scalars().all()
    if sims:
        connection.execute(
            sa.text(
                "INSERT INTO devices (sim_id, imei, state, session_upload, session_download,"
                " data_blocked) VALUES (:sim_id, :imei, 'detached', 0, 0, false)"
            ),
            [{"sim_id": sim_id, "imei": imei_for(sim_id)} for sim_id in sims],
        )


def downgrade() -> None:

    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("json_body")

    with op.batch_alter_table("device_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_messages_device_id_id"))

    op.drop_table("device_messages")
    with op.batch_alter_table("usage_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_hours_account_id_hour"))
        batch_op.drop_index(batch_op.f("ix_usage_hours_account_id_fleet_id_hour"))

    op.drop_table("usage_hours")
    with op.batch_alter_table("sms_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_commands_sim_id_status"))
        batch_op.drop_index(batch_op.f("ix_sms_commands_account_id_sim_id_id"))
        batch_op.drop_index(batch_op.f("ix_sms_commands_account_id_id"))

    op.drop_table("sms_commands")
    with op.batch_alter_table("ip_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ip_commands_account_id_sim_id_id"))
        batch_op.drop_index(batch_op.f("ix_ip_commands_account_id_sim_iccid_id"))
        batch_op.drop_index(batch_op.f("ix_ip_commands_account_id_id"))

    op.drop_table("ip_commands")
    op.drop_table("devices")
    with op.batch_alter_table("connection_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connection_events_sim_id_id"))
        batch_op.drop_index(batch_op.f("ix_connection_events_account_id_id"))

    op.drop_table("connection_events")
    with op.batch_alter_table("billing_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_periods_sim_id_id"))

    op.drop_table("billing_periods")
    op.drop_table("event_sinks")
