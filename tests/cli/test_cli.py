"""The `fleetsim` command's account, key and inventory subcommands, on both backends."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from fleetsim.cli.main import main
from fleetsim.core.clock import SystemClock
from fleetsim.core.iccid import is_valid_iccid
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, ApiKey, SimCard
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.clock import configure_clock
from fleetsim.resources.accounts.service import authenticate


def run(database_url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--database-url", database_url])
    return result.exit_code, result.stdout, result.stderr


def test_accounts_create_prints_json_with_a_working_token(database_url: str) -> None:
    code, out, _ = run(database_url, "accounts", "create", "--friendly-name", "Field team")
    assert code == 0
    account = json.loads(out)
    assert account["sid"].startswith("AC")
    assert len(account["sid"]) == 34
    assert len(account["auth_token"]) == 32
    assert account["auth_token"].isalnum()
    assert account["friendly_name"] == "Field team"
    engine = create_database_engine(database_url)
    with unit_of_work(engine, write=False) as session:
        assert (
            authenticate(Tx.of(session), account["sid"], account["auth_token"]).sid
            == account["sid"]
        )
    engine.dispose()


def test_subaccounts_name_their_parent(database_url: str) -> None:
    parent = json.loads(run(database_url, "accounts", "create")[1])
    code, out, _ = run(database_url, "accounts", "create", "--parent", parent["sid"])
    assert code == 0
    child = json.loads(out)
    assert child["owner_account_sid"] == parent["sid"]
    engine = create_database_engine(database_url)
    with unit_of_work(engine, write=False) as session:
        row = session.execute(select(Account).where(Account.sid == child["sid"])).scalar_one()
        assert row.parent_id is not None
    engine.dispose()


def test_an_unknown_parent_is_a_one_line_error(database_url: str) -> None:
    code, out, err = run(database_url, "accounts", "create", "--parent", "AC" + "0" * 32)
    assert code == 1
    assert out == ""
    assert "was not found" in err
    assert "Traceback" not in err


def test_keys_create_shows_the_secret_once_and_stores_only_a_hash(database_url: str) -> None:
    account = json.loads(run(database_url, "accounts", "create")[1])
    code, out, _ = run(database_url, "keys", "create", "--account", account["sid"])
    assert code == 0
    key = json.loads(out)
    assert key["sid"].startswith("SK")
    assert len(key["secret"]) == 32
    engine = create_database_engine(database_url)
    with unit_of_work(engine, write=False) as session:
        assert authenticate(Tx.of(session), key["sid"], key["secret"]).sid == account["sid"]
        row = session.execute(select(ApiKey).where(ApiKey.sid == key["sid"])).scalar_one()
        assert key["secret"] not in (row.secret_hash, row.secret_salt)
    engine.dispose()


def test_inventory_generate_stores_cards_and_writes_csv(database_url: str, tmp_path: Path) -> None:
    out_file = tmp_path / "cards.csv"
    code, _, err = run(
        database_url, "inventory", "generate", "--count", "25", "--output", str(out_file)
    )
    assert code == 0
    assert "25 cards stored" in err
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert len(rows) == 25
    assert all(is_valid_iccid(r["iccid"]) for r in rows)
    assert all(len(r["registration_code"]) == 10 for r in rows)
    engine = create_database_engine(database_url)
    with unit_of_work(engine, write=False) as session:
        stored = dict(session.execute(select(SimCard.iccid, SimCard.registration_code)).all())
    engine.dispose()
    assert stored == {r["iccid"]: r["registration_code"] for r in rows}


def test_inventory_generate_to_stdout_is_repeatable_with_a_seed(database_url: str) -> None:
    code, out, _ = run(database_url, "inventory", "generate", "--count", "3", "--seed", "7")
    assert code == 0
    assert out.splitlines()[0] == "iccid,registration_code"
    assert len(out.splitlines()) == 4
    again = list(csv.reader(io.StringIO(out)))
    assert all(is_valid_iccid(row[0]) for row in again[1:])


def test_inventory_import_loads_and_skips_known_cards(database_url: str, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    run(database_url, "inventory", "generate", "--count", "4", "--output", str(first))
    more = tmp_path / "more.csv"
    code, out, _ = run(database_url, "inventory", "generate", "--count", "2", "--seed", "3")
    more.write_text(out)
    combined = tmp_path / "combined.csv"
    combined.write_text(first.read_text() + "".join(more.read_text().splitlines(True)[1:]))
    fresh_db_cards = len(first.read_text().splitlines()) - 1
    assert fresh_db_cards == 4
    code, _, err = run(database_url, "inventory", "import", str(combined))
    assert code == 0
    assert "0 cards added, 6 already known" in err


def test_inventory_import_refuses_a_bad_file_and_names_the_line(
    database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("iccid,registration_code\n89883070000000000000,ABCDEFGHJK\n")
    code, _, err = run(database_url, "inventory", "import", str(bad))
    assert code == 1
    assert "line 2" in err
    assert "Luhn" in err
    assert "Fix the file" in err
    header = tmp_path / "header.csv"
    header.write_text("iccid;code\n")
    code, _, err = run(database_url, "inventory", "import", str(header))
    assert code == 1
    assert "line 1" in err
    engine = create_database_engine(database_url)
    with unit_of_work(engine, write=False) as session:
        assert session.execute(select(SimCard)).first() is None
    engine.dispose()


def test_inventory_cards_are_dated_by_the_server_clock(database_url: str) -> None:
    """With a manual clock, a card's manufacture (and so a Sim's base Settings Update) is
    the server's time, not the wall clock's."""
    start = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    engine = create_database_engine(database_url)
    configure_clock(engine, "manual", start=start, system=SystemClock())
    engine.dispose()
    code, _, _ = run(database_url, "inventory", "generate", "--count", "2", "--seed", "5")
    assert code == 0
    engine = create_database_engine(database_url)
    with unit_of_work(engine, write=False) as session:
        dates = set(session.execute(select(SimCard.date_created)).scalars())
    engine.dispose()
    assert dates == {start}
