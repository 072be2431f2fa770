"""Auth tokens at rest: sealed under the server's secret key, never stored in the clear;
the key from FLEETSIM_SECRET_KEY or a 0600 file beside a SQLite database; databases made
before sealing are sealed by the migration."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, select, text

from fleetsim.cli.main import main
from fleetsim.core.clock import FrozenClock
from fleetsim.core.errors import AuthenticationFailed
from fleetsim.core.sealing import SecretKeyError, TokenBox, is_sealed
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.migrate import alembic_config, upgrade
from fleetsim.db.secret_key import SECRET_KEY_ENV, key_file_for, token_box
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.accounts.service import auth_token_of, authenticate, create_account
from tests.support.postgres import PostgresCluster

SID = "AC" + "ab" * 16
PLAIN = "0123456789abcdef" * 2


def test_a_sealed_token_opens_only_with_its_key_and_its_account() -> None:
    box = TokenBox("a secret of sixteen+")
    sealed = box.seal(PLAIN, account_sid=SID)
    assert is_sealed(sealed)
    assert PLAIN not in sealed
    assert box.seal(PLAIN, account_sid=SID) != sealed  # a fresh nonce each time
    assert box.open(sealed, account_sid=SID) == PLAIN
    assert TokenBox("a secret of sixteen+").open(sealed, account_sid=SID) == PLAIN
    with pytest.raises(SecretKeyError, match="does not open") as wrong_key:
        TokenBox("another secret, long").open(sealed, account_sid=SID)
    assert sealed not in str(wrong_key.value)
    with pytest.raises(SecretKeyError):
        box.open(sealed, account_sid="AC" + "cd" * 16)  # moved to another account's row
    with pytest.raises(SecretKeyError):
        box.open(sealed[:-4] + "AAAA", account_sid=SID)
    assert box.open(PLAIN, account_sid=SID) == PLAIN  # not sealed yet (before migration)
    with pytest.raises(SecretKeyError, match="at least 16"):
        TokenBox("short")


def test_tokens_are_stored_sealed_and_open_for_authentication(
    engine: Engine, clock: FrozenClock, sids: SidFactory
) -> None:
    with unit_of_work(engine, write=True) as session:
        account = create_account(session, friendly_name=None, parent=None, clock=clock, sids=sids)
        sid, token = account.sid, auth_token_of(session, account)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT auth_token FROM accounts WHERE sid = :sid"), {"sid": sid}
        ).scalar_one()
    assert is_sealed(stored)
    assert token not in stored
    with unit_of_work(engine, write=False) as session:
        assert authenticate(Tx.of(session), sid, token).sid == sid


def test_without_a_configured_key_sqlite_keeps_one_in_a_0600_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    clock: FrozenClock,
    sids: SidFactory,
) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV)
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    engine = create_database_engine(url)
    upgrade(engine)
    with unit_of_work(engine, write=True) as session:
        account = create_account(session, friendly_name=None, parent=None, clock=clock, sids=sids)
        sid, token = account.sid, auth_token_of(session, account)
    key_file = tmp_path / "fleet.db.key"
    assert key_file_for(engine.url) == key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    engine.dispose()
    # Another engine (another node on this machine) reads the same key.
    again = create_database_engine(url)
    with unit_of_work(again, write=False) as session:
        assert authenticate(Tx.of(session), sid, token).sid == sid
    again.dispose()
    # A configured key that is not the one the tokens were sealed with cannot open them.
    monkeypatch.setenv(SECRET_KEY_ENV, "a different secret key")
    other = create_database_engine(url)
    with unit_of_work(other, write=False) as session, pytest.raises(AuthenticationFailed):
        authenticate(Tx.of(session), sid, token)
    other.dispose()
    assert f"The auth token of {sid} does not open" in caplog.text
    assert token not in caplog.text


def test_postgresql_needs_a_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV)
    url = "postgresql://nobody@127.0.0.1:1/none"
    engine = create_database_engine(url)
    with pytest.raises(SecretKeyError, match=SECRET_KEY_ENV):
        token_box(engine)
    engine.dispose()
    # A node refuses to start, before it touches the database.
    for node in (["serve", "--no-udp"], ["worker"]):
        result = CliRunner().invoke(main, [*node, "--database-url", url])
        assert result.exit_code == 1, result.output
        assert f"Set {SECRET_KEY_ENV} (at least 16 characters" in result.output


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no schema) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    name = f"old_{os.getpid()}_{tmp_path.name[-12:].replace('-', '_')}"
    admin = create_database_engine(cluster.url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return cluster.database_url(name)


def _migrate(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_the_migration_seals_plaintext_tokens_of_an_older_database(empty_database: str) -> None:
    sealing = ScriptDirectory.from_config(alembic_config()).get_revision("0006")
    assert sealing is not None
    before = sealing.down_revision
    assert isinstance(before, str)
    engine = create_database_engine(empty_database)
    _migrate(engine, before)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO accounts (sid, friendly_name, auth_token, status, date_created, "
                "date_updated) VALUES (:sid, 'old', :token, 'active', :now, :now)"
            ),
            {"sid": SID, "token": PLAIN, "now": "2026-01-01 00:00:00"},
        )
    _migrate(engine, "0006")
    with unit_of_work(engine, write=False) as session:
        stored = session.execute(select(Account.sealed_auth_token)).scalar_one()
        assert is_sealed(stored)
        assert PLAIN not in stored
        assert authenticate(Tx.of(session), SID, PLAIN).sid == SID
    _migrate(engine, "head")  # and on to the newest schema
    engine.dispose()
