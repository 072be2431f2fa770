"""`fleetsim api-clients create` and `fleetsim inventory generate --iccid-prefix`, on both
backends."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import select

from fleetsim.cli.main import main
from fleetsim.core.clock import FrozenClock
from fleetsim.core.iccid import is_valid_iccid
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.store import Tx
from fleetsim.db.tables import ApiClient, SimCard
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.api_clients.service import account_of_token, issue_token


def run(database_url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--database-url", database_url])
    return result.exit_code, result.stdout, result.stderr


def test_api_clients_create_prints_the_secret_once_and_keeps_a_hash(database_url: str) -> None:
    account = json.loads(run(database_url, "accounts", "create")[1])
    code, out, _ = run(
        database_url,
        "api-clients",
        "create",
        "--account",
        account["sid"],
        "--lifetime",
        "24h",
        "--json",
    )
    assert code == 0, out
    made = json.loads(out)
    assert set(made) == {"client_id", "client_secret"}
    engine = create_database_engine(database_url)
    clock = FrozenClock(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    with unit_of_work(engine, write=False) as session:
        row = session.execute(select(ApiClient)).scalar_one()
        assert row.lifetime_seconds == 86400
        assert made["client_secret"] not in (row.secret_hash, row.secret_salt)
        issued = issue_token(
            session,
            grant_type="client_credentials",
            client_id=made["client_id"],
            client_secret=made["client_secret"],
            clock=clock,
        )
        assert issued.expires_in == 86400
        owner = account_of_token(Tx.of(session), issued.access_token, now=clock.now())
        assert owner is not None
        assert owner.sid == account["sid"]
    engine.dispose()
    code, out, _ = run(database_url, "api-clients", "create", "--account", account["sid"])
    assert code == 0
    assert out.startswith("client_id:     apiclient_")
    assert "client_secret: " in out


def test_api_clients_create_refuses_an_unknown_account_and_lifetime(database_url: str) -> None:
    code, _, err = run(database_url, "api-clients", "create", "--account", "AC" + "0" * 32)
    assert code != 0
    assert "was not found" in err
    account = json.loads(run(database_url, "accounts", "create")[1])
    code, _, err = run(
        database_url, "api-clients", "create", "--account", account["sid"], "--lifetime", "2h"
    )
    assert code == 2
    assert "'2h' is not one of '1h', '24h', '30d', '24mo'" in err


def test_inventory_generates_kores_new_hardware(database_url: str) -> None:
    code, out, _ = run(
        database_url, "inventory", "generate", "--count", "3", "--iccid-prefix", "8910392"
    )
    assert code == 0
    iccids = [line.split(",")[0] for line in out.splitlines()[1:]]
    assert len(iccids) == 3
    assert all(i.startswith("8910392") and is_valid_iccid(i) for i in iccids)
    engine = create_database_engine(database_url)
    with unit_of_work(engine, write=False) as session:
        stored = set(session.execute(select(SimCard.iccid)).scalars())
    engine.dispose()
    assert stored == set(iccids)
