"""Migration 0005 on both backends: Sims registered before it get the base settings their
cards were made with, dated at manufacture."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from fleetsim.db.dialect import WRITE, create_database_engine
from fleetsim.db.migrate import alembic_config
from fleetsim.db.tables import SettingsUpdate
from fleetsim.db.types import UTCDateTime
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.settings_updates.packages import BASE_PACKAGE, load_packages
from tests.conftest import BACKENDS
from tests.support.postgres import PostgresCluster

MADE = dt.datetime(2025, 6, 1, 8, 30, tzinfo=dt.UTC)
REGISTERED = dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.UTC)
_names = itertools.count()


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no schema at all."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        name = f"migration_{next(_names)}"
        admin = create_database_engine(cluster.url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = cluster.database_url(name)
    engine = create_database_engine(url)
    yield engine
    engine.dispose()


def migrate_to(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.execution_options(**{WRITE: True}).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_sims_registered_before_get_their_base_settings(empty_engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    before = script.get_revision("0005").down_revision
    assert isinstance(before, str)
    migrate_to(empty_engine, before)

    accounts = sa.table(
        "accounts",
        *(sa.column(c) for c in ("id", "sid", "friendly_name", "auth_token", "status")),
        sa.column("date_created", UTCDateTime()),
        sa.column("date_updated", UTCDateTime()),
    )
    cards = sa.table(
        "sim_cards",
        sa.column("iccid"),
        sa.column("registration_code"),
        sa.column("date_created", UTCDateTime()),
    )
    sims = sa.table(
        "sims",
        *(sa.column(c) for c in ("id", "sid", "account_id", "iccid", "status")),
        sa.column("fleet_change_pending"),
        sa.column("date_created", UTCDateTime()),
        sa.column("date_updated", UTCDateTime()),
    )
    iccids = ["89883070000000000001", "89883070000000000019"]
    with empty_engine.execution_options(**{WRITE: True}).begin() as connection:
        stamp = {"date_created": REGISTERED, "date_updated": REGISTERED}
        connection.execute(
            sa.insert(accounts).values(
                id=1, sid="AC" + "1" * 32, friendly_name="old", auth_token="t" * 32, status="active"
            ),
            stamp,
        )
        for number, iccid in enumerate(iccids, start=1):
            connection.execute(
                sa.insert(cards).values(iccid=iccid, registration_code="ABCDEFGHJK"),
                {"date_created": MADE + dt.timedelta(days=number)},
            )
            connection.execute(
                sa.insert(sims).values(
                    id=number,
                    sid=f"HS{number:032x}",
                    account_id=1,
                    iccid=iccid,
                    status="new",
                    fleet_change_pending=False,
                ),
                stamp,
            )

    migrate_to(empty_engine, "0005")

    with unit_of_work(empty_engine, write=False) as session:
        rows = session.execute(sa.select(SettingsUpdate).order_by(SettingsUpdate.sim_id)).scalars()
        updates = [
            (
                u.sim_id,
                u.iccid,
                u.status,
                load_packages(u.packages),
                u.date_created,
                u.date_completed,
            )
            for u in rows
        ]
    assert updates == [
        (
            n,
            iccid,
            "successful",
            [BASE_PACKAGE],
            MADE + dt.timedelta(days=n),
            MADE + dt.timedelta(days=n),
        )
        for n, iccid in enumerate(iccids, start=1)
    ]
