"""auth tokens sealed at rest

Widens `accounts.auth_token` to hold a sealed token and seals the plaintext tokens of
databases made before, with the server's secret key (FLEETSIM_SECRET_KEY, or the key file
beside a SQLite database).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fleetsim.core.sealing import is_sealed
from fleetsim.db.dialect import is_sqlite
from fleetsim.db.secret_key import token_box

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

accounts = sa.table(
    "accounts",
    sa.column("id", sa.Integer()),
    sa.column("sid", sa.String()),
    sa.column("auth_token", sa.String()),
)


def _resize(old: int, new: int) -> None:
    # SQLite does not enforce VARCHAR lengths; rebuilding `accounts` (which many tables
    # reference) there would buy nothing.
    if not is_sqlite(op.get_bind()):
        op.alter_column(
            "accounts",
            "auth_token",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=False,
        )


def upgrade() -> None:
    _resize(32, 128)
    connection = op.get_bind()
    rows = connection.execute(sa.select(accounts.c.id, accounts.c.sid, accounts.c.auth_token))
    plaintext = [row for row in rows if not is_sealed(row.auth_token)]
    if not plaintext:
        return  # no key needed for an empty database
    box = token_box(connection)
    for row in plaintext:
        connection.execute(
            accounts.update()
            .where(accounts.c.id == row.id)
            .values(auth_token=box.seal(row.auth_token, account_sid=row.sid))
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = list(connection.execute(sa.select(accounts.c.id, accounts.c.sid, accounts.c.auth_token)))
    if rows:
        box = token_box(connection)
        for row in rows:
            connection.execute(
                accounts.update()
                .where(accounts.c.id == row.id)
                .values(auth_token=box.open(row.auth_token, account_sid=row.sid))
            )
    _resize(128, 32)
