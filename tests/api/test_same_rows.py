"""One data path: a Sim registered and activated through the API, one made by `fleetsim
simulate` and one by the benchmark loader leave the same rows in every table, ids, SIDs,
times and the values that tell cards apart (ICCID, IMEI, registration code) aside.

The rows of a Sim are found by walking the schema's foreign keys from its `sims` row: down
to every row that refers to one already found, and up along one-to-one keys (its card).
Jobs refer to what they are about by `subject`, not by a foreign key. A new table is
covered without changing this test.

Finished jobs are not compared: they are the queue's log of how a change was carried out
(the API's update left one; the simulator made no request). What a Sim has coming, its
pending jobs, is compared.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Column, Connection, Table, select
from sqlalchemy.orm import Session

from fleetsim.core.sids import SidFactory
from fleetsim.db.tables import Account, Base, Fleet, Sim
from fleetsim.db.types import UTCDateTime
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.sims.search import status_history
from fleetsim.simulation.generator import create_sims, fleet_places
from tests.api.conftest import Api
from tests.api.network_fixtures import advance
from tests.api.sim_helpers import register
from tests.conftest import START

LOADER = Path(__file__).resolve().parents[2] / "bench" / "load_sims.py"
# Values that necessarily differ between two Sims (or two runs), whatever path made them.
_DISTINCT = frozenset(
    {"sid", "iccid", "imei", "registration_code", "ip_address", "data_session_sid"}
)

Rows = dict[str, list[tuple[tuple[str, Any], ...]]]


def bench_loader() -> ModuleType:
    spec = importlib.util.spec_from_file_location("load_sims", LOADER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows_of(connection: Connection, sim_id: int) -> Rows:
    """Every row that belongs to the Sim, by table, normalized (see `_normal`)."""
    tables = Base.metadata.tables
    sims = tables["sims"]
    sim = connection.execute(select(sims).where(sims.c.id == sim_id)).mappings().one()
    found: dict[str, dict[Any, dict[str, Any]]] = {"sims": {sim_id: dict(sim)}}
    grew = True
    while grew:
        grew = False
        for table in tables.values():
            for fk in table.foreign_keys:
                parent = fk.column.table.name
                child = table.name
                if parent in found and child != parent:
                    # Down: rows that refer to a row found.
                    keys = {row[fk.column.name] for row in found[parent].values()}
                    grew |= _collect(connection, table, fk.parent, keys, found)
                if child in found and fk.parent.unique:
                    # Up, one to one: the row a found row alone refers to (its card).
                    keys = {row[fk.parent.name] for row in found[child].values()}
                    grew |= _collect(connection, fk.column.table, fk.column, keys, found)
    for table in tables.values():
        if "subject" in table.c and "id" in table.c:
            subjects = [sim["sid"], f"bill:{sim['sid']}"]
            query = select(table).where(table.c.subject.in_(subjects))
            if table.name == "jobs":
                query = query.where(table.c.state != "done")
            for row in connection.execute(query).mappings():
                found.setdefault(table.name, {})[row["id"]] = dict(row)
    return {
        name: sorted(_normal(tables[name], row, found, sim) for row in found[name].values())
        for name in sorted(found)
    }


def _collect(
    connection: Connection,
    table: Table,
    column: Column[Any],
    keys: set[Any],
    found: dict[str, dict[Any, dict[str, Any]]],
) -> bool:
    keys.discard(None)
    if not keys:
        return False
    (primary,) = table.primary_key.columns
    added = False
    for row in connection.execute(select(table).where(column.in_(keys))).mappings():
        have = found.setdefault(table.name, {})
        if row[primary.name] not in have:
            have[row[primary.name]] = dict(row)
            added = True
    return added


def _normal(
    table: Table, row: dict[str, Any], found: dict[str, dict[Any, dict[str, Any]]], sim: Any
) -> tuple[tuple[str, Any], ...]:
    """The row without its key, times and distinct values; a reference to a row of the
    same Sim shows as the table it points to, and the Sim's SID and id inside text as
    placeholders."""
    values: list[tuple[str, Any]] = []
    for column in table.columns:
        value = row[column.name]
        if column.primary_key or column.name in _DISTINCT or isinstance(column.type, UTCDateTime):
            continue
        targets = {fk.column.table.name for fk in column.foreign_keys}
        if targets & set(found) and any(value in found[t] for t in targets & set(found)):
            value = f"<{'|'.join(sorted(targets))}>"
        elif isinstance(value, str):
            value = value.replace(sim["sid"], "<sim>")
            if column.name == "payload" and value.startswith("{"):
                payload = json.loads(value)
                value = {k: "<sim>" if v == sim["id"] else v for k, v in payload.items()}
                value = json.dumps(value, sort_keys=True)
        values.append((column.name, value))
    return tuple(values)


def test_registered_simulated_and_loaded_sims_have_the_same_rows(api: Api) -> None:
    network = api.network_sids(1)
    profile = api.post("/v1/NetworkAccessProfiles", data={"Networks": network}).json()["sid"]
    fleet = api.post("/v1/Fleets", data={"NetworkAccessProfile": profile}).json()["sid"]
    (card,) = api.cards(1)
    registered = register(api, card)["sid"]
    update = api.post(f"/v1/Sims/{registered}", data={"Fleet": fleet, "Status": "active"})
    assert update.status_code == 202, update.text
    advance(api, 10)
    assert api.get(f"/v1/Sims/{registered}").json()["status"] == "active"

    with unit_of_work(api.engine, write=True) as session:
        account = _account(session, api.creds.account_sid)
        fleet_row, _ = fleet_places(session, account, fleet)
        (simulated,) = create_sims(session, account, fleet_row, 1, at=START, sids=SidFactory())
    bench_loader().load_sims(api.engine, api.creds.account_sid, 1, fleet=fleet, now=START)

    with unit_of_work(api.engine, write=False) as session:
        sim_ids = list(session.execute(select(Sim.id).order_by(Sim.id)).scalars())
        assert len(sim_ids) == 3
        assert simulated.sim_id == sim_ids[1]
        connection = session.connection()
        expected, made, loaded = (rows_of(connection, sim_id) for sim_id in sim_ids)
    # The comparison covers what an active Sim has: nothing passes for lack of rows.
    assert set(expected) == {
        "billing_periods",
        "devices",
        "jobs",
        "settings_updates",
        "sim_cards",
        "sim_status_events",
        "sims",
    }
    assert made == expected
    assert loaded == expected


def test_a_registered_sim_and_a_loaded_new_one_have_the_same_rows(api: Api) -> None:
    """The benchmarks load `new` Sims: as `POST /v1/Sims` leaves them."""
    (card,) = api.cards(1)
    register(api, card)
    bench_loader().load_sims(api.engine, api.creds.account_sid, 1, now=START)
    with unit_of_work(api.engine, write=False) as session:
        sim_ids = list(session.execute(select(Sim.id).order_by(Sim.id)).scalars())
        connection = session.connection()
        expected, loaded = (rows_of(connection, sim_id) for sim_id in sim_ids)
    assert set(expected) == {
        "devices",
        "settings_updates",
        "sim_cards",
        "sim_status_events",
        "sims",
    }
    assert loaded == expected


def _account(session: Session, sid: str) -> Account:
    return session.execute(select(Account).where(Account.sid == sid)).scalar_one()


def test_the_history_of_a_completed_fleet_change_names_the_new_fleet(api: Api) -> None:
    first, second = (
        api.post("/v1/Fleets", data={"NetworkAccessProfile": profile}).json()["sid"]
        for profile in [api.post("/v1/NetworkAccessProfiles", data={}).json()["sid"]] * 2
    )
    (card,) = api.cards(1)
    sid = register(api, card)["sid"]
    activated = api.post(f"/v1/Sims/{sid}", data={"Fleet": first, "Status": "active"})
    assert activated.status_code == 202, activated.text
    advance(api, 10)
    moved = api.post(f"/v1/Sims/{sid}", data={"Fleet": second})
    assert moved.status_code == 202, moved.text
    advance(api, 10)
    assert api.get(f"/v1/Sims/{sid}").json()["fleet_sid"] == second
    with unit_of_work(api.engine, write=False) as session:
        sim = session.execute(select(Sim).where(Sim.sid == sid)).scalar_one()
        fleets = {row.id: row.sid for row in session.execute(select(Fleet.id, Fleet.sid))}
        history = status_history(session, sim)
    assert [(e.status, fleets.get(e.fleet_id)) for e in history] == [
        ("active", second),
        ("active", first),
        ("new", None),
    ]
