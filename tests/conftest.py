"""Fixtures shared by every tier: databases on SQLite and PostgreSQL, clocks, SIDs, apps.

Every database-backed test runs on both backends. PostgreSQL tests need initdb/pg_ctl;
where they are missing the PostgreSQL half is skipped (CI installs them, so it runs there).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from fleetsim.app.setup import prepare_database
from fleetsim.core.clock import FrozenClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.secret_key import SECRET_KEY_ENV
from fleetsim.db.uow import unit_of_work
from tests.support.postgres import PostgresCluster, find_pg_bin

# The server's secret key, as a deployment on PostgreSQL must set it; servers started by
# tests inherit it. Tests of the key file beside a SQLite database unset it.
os.environ.setdefault(SECRET_KEY_ENV, "fleetsim-test-suite-secret-key")

START = dt.datetime(2026, 1, 15, 12, 0, 0, tzinfo=dt.UTC)
BACKENDS = ["sqlite", "postgresql"]
_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("FLEETSIM_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL (initdb, pg_ctl) is required here but not installed")
        pytest.skip("PostgreSQL (initdb, pg_ctl) is not installed")
    cluster = PostgresCluster.start(bin_dir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PostgresCluster) -> str:
    """A migrated database that each test's database is copied from."""
    admin = create_database_engine(pg_cluster.url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE fleetsim_template"))
    admin.dispose()
    engine = prepare_database(pg_cluster.database_url("fleetsim_template"))
    engine.dispose()
    return "fleetsim_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    migrated = folder / "migrated.db"
    prepare_database(f"sqlite:///{migrated}").dispose()
    # The engine's checkpointer thread may still be copying the WAL back into the file, so
    # a byte copy of it could lack tables. SQLite's backup reads one consistent snapshot,
    # WAL included, into a file that no engine opens: tests copy that one byte for byte.
    path = folder / "template.db"
    with closing(sqlite3.connect(migrated)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return path


def fresh_database(request: pytest.FixtureRequest, folder: Path) -> str:
    """The URL of a new migrated database copied from the template of the request's backend
    (`request.param`), for a test or a module."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = folder / "fleetsim.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    template_name: str = request.getfixturevalue("pg_template")
    name = f"test_{next(_names)}"
    admin = create_database_engine(cluster.url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template_name}"))
    admin.dispose()
    return cluster.database_url(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database with the network catalogue, on each backend."""
    return fresh_database(request, tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def sids() -> SidFactory:
    return SidFactory(seed=1234)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A unit of work for rule tests; committed at the end like a request."""
    with unit_of_work(engine, write=True) as session:
        yield session


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures tests record as properties, from every worker's reports:
    `conformance` (fuzz cases, hostile inputs) and `documentation` (examples run)."""
    for prop, title in (
        ("conformance", "conformance figures"),
        ("documentation", "documentation examples"),
    ):
        lines = [
            str(value)
            for reports in terminalreporter.stats.values()
            for report in reports
            if getattr(report, "when", None) == "call"
            for name, value in getattr(report, "user_properties", ())
            if name == prop
        ]
        if lines:
            terminalreporter.section(title)
            for line in dict.fromkeys(lines):
                terminalreporter.write_line(line)
            if prop == "documentation":
                counts = [re.search(r"(\d+) examples run, (\d+) not run", line) for line in lines]
                ran = sum(int(m.group(1)) for m in counts if m)
                skipped = sum(int(m.group(2)) for m in counts if m)
                terminalreporter.write_line(f"in all: {ran} examples run, {skipped} not run")
