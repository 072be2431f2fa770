"""usage rollups: per-Sim days, per-Fleet hours and days, backfilled from usage_hours

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

import fleetsim.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 10_000


def _rollup(name: str, period: str, *, per_sim: bool) -> None:
    sim_columns: list[Any] = (
        [
            sa.Column("sim_id", sa.Integer(), nullable=False),
            sa.Column("sim_sid", sa.String(length=34), nullable=False),
        ]
        if per_sim
        else []
    )
    keys = ["sim_id"] if per_sim else []
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        *sim_columns,
        sa.Column("fleet_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("iso_country", sa.String(length=2), nullable=False),
        sa.Column(period, fleetsim.db.types.UTCDateTime(), nullable=False),
        sa.Column("upload", sa.BigInteger(), nullable=False),
        sa.Column("download", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=f"fk_{name}_account_id"),
        *(
            [sa.ForeignKeyConstraint(["sim_id"], ["sims.id"], name=f"fk_{name}_sim_id")]
            if per_sim
            else []
        ),
        sa.ForeignKeyConstraint(["fleet_id"], ["fleets.id"], name=f"fk_{name}_fleet_id"),
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"], name=f"fk_{name}_network_id"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.UniqueConstraint(
            *keys,
            "fleet_id",
            "network_id",
            period,
            name=f"uq_{name}_{'_'.join([*keys, 'fleet_id', 'network_id', period])}",
        ),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        if per_sim:
            batch_op.create_index(
                f"ix_{name}_account_id_sim_sid_{period}", ["account_id", "sim_sid", period]
            )
            batch_op.create_index(
                f"ix_{name}_account_id_{period}_sim_sid", ["account_id", period, "sim_sid"]
            )
        else:
            batch_op.create_index(f"ix_{name}_account_id_{period}", ["account_id", period])


def _table(name: str, period: str, *, per_sim: bool) -> sa.TableClause:
    columns: list[Any] = [
        sa.column("account_id", sa.Integer()),
        *([sa.column("sim_id"), sa.column("sim_sid")] if per_sim else []),
        sa.column("fleet_id"),
        sa.column("network_id"),
        sa.column("iso_country"),
        sa.column(period, fleetsim.db.types.UTCDateTime()),
        sa.column("upload", sa.BigInteger()),
        sa.column("download", sa.BigInteger()),
    ]
    return sa.table(name, *columns)


def _backfill() -> None:
    """Sum the hours already recorded into the three rollups (portable: in Python)."""
    bind = op.get_bind()
    hours = sa.table(
        "usage_hours",
        sa.column("account_id"),
        sa.column("sim_id"),
        sa.column("fleet_id"),
        sa.column("network_id"),
        sa.column("iso_country"),
        sa.column("hour", fleetsim.db.types.UTCDateTime()),
        sa.column("upload"),
        sa.column("download"),
    )
    sims = sa.table("sims", sa.column("id"), sa.column("sid"))
    query = sa.select(
        hours.c.account_id,
        hours.c.sim_id,
        sims.c.sid,
        hours.c.fleet_id,
        hours.c.network_id,
        hours.c.iso_country,
        hours.c.hour,
        hours.c.upload,
        hours.c.download,
    ).join(sims, sims.c.id == hours.c.sim_id)
    days: dict[tuple[Any, ...], list[int]] = {}
    fleet_hours: dict[tuple[Any, ...], list[int]] = {}
    fleet_days: dict[tuple[Any, ...], list[int]] = {}
    for row in bind.execute(query):
        account, sim_id, sim_sid, fleet, network, country, hour, upload, download = row
        day: dt.datetime = hour.replace(hour=0)
        for totals, key in (
            (days, (account, sim_id, sim_sid, fleet, network, country, day)),
            (fleet_hours, (account, fleet, network, country, hour)),
            (fleet_days, (account, fleet, network, country, day)),
        ):
            total = totals.setdefault(key, [0, 0])
            total[0] += int(upload)
            total[1] += int(download)
    for name, period, per_sim, totals in (
        ("usage_days", "day", True, days),
        ("usage_fleet_hours", "hour", False, fleet_hours),
        ("usage_fleet_days", "day", False, fleet_days),
    ):
        table = _table(name, period, per_sim=per_sim)
        names = [c.name for c in table.columns]
        rows = [dict(zip(names, [*key, *sums], strict=True)) for key, sums in totals.items()]
        for start in range(0, len(rows), _BATCH):
            bind.execute(table.insert(), rows[start : start + _BATCH])


def upgrade() -> None:
    _rollup("usage_days", "day", per_sim=True)
    _rollup("usage_fleet_hours", "hour", per_sim=False)
    _rollup("usage_fleet_days", "day", per_sim=False)
    # Queries by Fleet read usage_fleet_hours now; the index only slowed down writes.
    with op.batch_alter_table("usage_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_hours_account_id_fleet_id_hour")
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("usage_hours", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_hours_account_id_fleet_id_hour", ["account_id", "fleet_id", "hour"]
        )
    for name in ("usage_fleet_days", "usage_fleet_hours", "usage_days"):
        op.drop_table(name)
