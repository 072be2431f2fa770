"""Writes in one unit of work each (`fleetsim.http.commit`): every refused request leaves
nothing behind; writes committed together keep each other's failures out; a busy database
makes writes wait off the event loop, not fail."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select

from fleetsim.api.fleets import routes as fleet_routes
from fleetsim.core.errors import InvalidParameter
from fleetsim.db.store import Tx
from fleetsim.db.tables import Fleet, Job, SmsCommand
from fleetsim.db.units import transaction
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.jobs import job_values
from fleetsim.http import commit
from fleetsim.http import endpoint as endpoint_module
from fleetsim.resources.fleets.service import NewFleet, create_fleet
from tests.api.conftest import Api, Credentials, assert_error
from tests.api.network_fixtures import connectable_sim

# What differs between two rows written for two equal requests.
_IDENTITY = {"id", "sid", "unique_name", "iccid", "sim_id"}


def stored(engine: Engine, table: Table, **where: Any) -> list[dict[str, Any]]:
    """The rows of `table` matching `where`, as the database holds them."""
    query = select(table).where(*(table.c[name] == value for name, value in where.items()))
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query.order_by(table.c.id))]


def same_but_identity(direct: dict[str, Any], full: dict[str, Any]) -> None:
    assert {k: v for k, v in direct.items() if k not in _IDENTITY} == {
        k: v for k, v in full.items() if k not in _IDENTITY
    }


def body_but(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in {"sid", "url", *names}}


@contextmanager
def nothing_written(api: Api, *tables: Table) -> Iterator[None]:
    """The block leaves the row counts of `tables` as they were."""

    def counts() -> list[int]:
        with unit_of_work(api.engine, write=False) as session:
            return [
                session.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
            ]

    before = counts()
    yield
    assert counts() == before


def job_for(api: Api, kind: str, key: str, value: int) -> dict[str, Any]:
    """The one pending job of `kind` whose payload's `key` is `value`, without its id and
    subject."""
    table: Table = Job.__table__  # type: ignore[assignment]
    pending = stored(api.engine, table, state="pending", kind=kind)
    jobs = [job for job in pending if json.loads(job["payload"]).get(key) == value]
    (job,) = jobs
    return {**job, "payload": sorted(json.loads(job["payload"])), "subject": None}


def test_refused_fleets_leave_nothing(api: Api) -> None:
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"})
    other = api.new_account()
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "theirs"}, as_=other)
    taken = api.post("/v1/Fleets", data={"NetworkAccessProfile": "p", "UniqueName": "taken"})
    assert taken.status_code == 201, taken.text
    wrong = Credentials(api.creds.username, "f" * 32, api.creds.account_sid)
    fleets: Table = Fleet.__table__  # type: ignore[assignment]

    with nothing_written(api, fleets):
        assert_error(api.post("/v1/Fleets", data={}), 400, 20001, "NetworkAccessProfile")
        assert_error(
            api.post("/v1/Fleets", data={"NetworkAccessProfile": "theirs"}),
            400,
            20001,
            "NetworkAccessProfile",
        )
        assert_error(
            api.post("/v1/Fleets", data={"NetworkAccessProfile": "p", "DataLimit": "0"}),
            400,
            20001,
            "DataLimit",
        )
        assert_error(
            api.post("/v1/Fleets", data={"NetworkAccessProfile": "p", "UniqueName": "taken"}),
            409,
            20409,
            "taken",
        )
        assert_error(
            api.post("/v1/Fleets", data={"NetworkAccessProfile": "p"}, as_=wrong), 401, 20003
        )
        assert_error(
            api.post(
                "/v1/Fleets",
                content=b'{"NetworkAccessProfile": "p"}',
                headers={"Content-Type": "application/json"},
            ),
            415,
            20415,
        )
        assert_error(
            api.post("/v1/Fleets", content=b"NetworkAccessProfile=p&" + b"x" * 70_000), 413, 20413
        )


def test_refused_commands_and_status_changes_leave_nothing(
    api: Api,
) -> None:
    sim = connectable_sim(api)
    new = connectable_sim(api, status="new")
    quiet = connectable_sim(api, fleet={"SmsCommandsEnabled": "false"})
    tables: list[Table] = [SmsCommand.__table__, Job.__table__]  # type: ignore[list-item]

    with nothing_written(api, *tables):
        assert_error(
            api.post("/v1/SmsCommands", data={"Sim": "HS" + "0" * 32, "Payload": "x"}), 404, 83005
        )
        assert_error(
            api.post("/v1/SmsCommands", data={"Sim": sim.sid, "Payload": "x" * 161}),
            400,
            20001,
            "Payload",
        )
        assert_error(
            api.post("/v1/SmsCommands", data={"Sim": new.sid, "Payload": "x"}), 400, 20001, "Sim"
        )
        assert_error(
            api.post("/v1/SmsCommands", data={"Sim": quiet.sid, "Payload": "x"}),
            400,
            20001,
            "disabled",
        )
        assert_error(api.post(f"/v1/Sims/{sim.sid}", data={"Status": "ready"}), 400, 83010, "ready")
        assert_error(
            api.post(f"/v1/Sims/{sim.sid}", data={"Status": "unknown"}), 400, 20001, "Status"
        )
        assert_error(api.post("/v1/Sims/no-such-sim", data={"Status": "inactive"}), 404, 20404)
        assert_error(
            api.post(f"/v1/Sims/{new.sid}", data={"Status": "ready", "Fleet": "HF" + "0" * 32}),
            400,
            83006,
            "Target Fleet not found",
        )
        assert_error(
            api.post(f"/v1/Sims/{sim.sid}", data={"Status": "active", "Fleet": ""}),
            400,
            83008,
            "remove your Super SIM from its Fleet",
        )

    named = api.post(f"/v1/Sims/{new.sid}", data={"Status": "ready", "UniqueName": "n"})
    assert named.status_code == 202, named.text
    assert (named.json()["unique_name"], named.json()["status"]) == ("n", "scheduled")


def test_a_write_that_fails_after_writing_leaves_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"})

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug after the insert")

    with monkeypatch.context() as patch, caplog.at_level(logging.ERROR, logger="fleetsim.http"):
        patch.setattr(fleet_routes, "render_fleet", broken)
        failed = api.post("/v1/Fleets", data={"NetworkAccessProfile": "p", "UniqueName": "once"})
    assert_error(failed, 500, 20500)
    assert "unhandled error on POST /v1/Fleets" in caplog.text

    # Had the insert stayed, this one would meet its UniqueName (409).
    created = api.post("/v1/Fleets", data={"NetworkAccessProfile": "p", "UniqueName": "once"})
    assert created.status_code == 201, created.text
    listed = api.get("/v1/Fleets").json()["fleets"]
    assert [fleet["unique_name"] for fleet in listed] == ["once"]


def test_writes_committed_together_keep_each_others_failures_out(api: Api) -> None:
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"})
    account = _account(api)

    def fleet(name: str) -> commit.Work[Any]:
        def work(tx: Tx) -> str:
            new = NewFleet(network_access_profile="p", unique_name=name)
            return create_fleet(tx, account, fleet=new, clock=api.clock, sids=_sids(api)).sid

        return work

    def writes_then_refuses(tx: Tx) -> None:
        tx.insert(Job, job_values("probe", {}, due_at=None, now=api.clock.now()))
        raise InvalidParameter("Probe", "is refused after the insert")

    outcomes = commit.run_together(
        api.engine, [fleet("a"), fleet("a"), writes_then_refuses, fleet("b")], wait=True
    )

    errors = [type(o.error).__name__ if o.error else None for o in outcomes]
    assert errors == [None, "Conflict", "InvalidParameter", None]
    names = [row["unique_name"] for row in stored(api.engine, Fleet.__table__)]  # type: ignore[arg-type]
    assert names == ["a", "b"]
    assert stored(api.engine, Job.__table__, kind="probe") == []  # type: ignore[arg-type]


def _account(api: Api) -> Any:
    with transaction(api.engine, write=False) as tx:
        from fleetsim.resources.accounts.service import authenticate

        return authenticate(tx, api.creds.username, api.creds.password)


def _sids(api: Api) -> Any:
    return api.client.app.state.runtime.sids  # type: ignore[attr-defined]


def test_a_row_inserted_on_a_tx_takes_the_defaults_a_flush_gives(api: Api) -> None:
    values = {"payload": "{}", "state": "pending", "max_attempts": 3, "created_at": api.clock.now()}
    # `attempts` has a default (0); `last_error` has none.
    with transaction(api.engine, write=True) as tx:
        unset = tx.insert(Job, {**values, "kind": "direct"})
        given_none = tx.insert(Job, {**values, "kind": "direct", "attempts": None})
    with unit_of_work(api.engine, write=True) as session:
        session.add(Job(**values, kind="flushed"))

    table: Table = Job.__table__  # type: ignore[assignment]
    (orm,) = stored(api.engine, table, kind="flushed")
    assert orm["attempts"] == 0
    direct = stored(api.engine, table, kind="direct")
    assert [row["id"] for row in direct] == [unset.id, given_none.id]
    for row in direct:
        assert {**row, "id": None, "kind": None} == {**orm, "id": None, "kind": None}
    assert (unset.kind, unset.created_at) == ("direct", api.clock.now())


def _sqlite_only(api: Api) -> None:
    if api.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL writers never wait to begin")


def test_writes_wait_for_their_turn_on_the_loop_while_this_process_has_another_writer(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite_only(api)
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"})
    holding, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with unit_of_work(api.engine, write=True) as session:
            session.connection()  # begins: this process's writer is taken (the job worker)
            holding.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=other_writer)
    thread.start()
    holding.wait(timeout=30)
    asked: list[str] = []
    take_turn = commit.take_writer_turn

    def asking(engine: Engine, given: Callable[[], None]) -> bool:
        taken = take_turn(engine, given)
        if not taken:  # the write waits in turn: let the other writer finish
            asked.append(threading.current_thread().name)
            release.set()
        return taken

    monkeypatch.setattr(commit, "take_writer_turn", asking)
    with released_when_the_writes_wait(monkeypatch, release.set) as seen:
        created = api.post("/v1/Fleets", data={"NetworkAccessProfile": "p"})
    thread.join(timeout=30)

    assert created.status_code == 201, created.text
    assert len(asked) == 1, "the write did not wait for its turn"
    assert seen == [], "the write waited in a thread"


def test_a_write_refused_for_its_parameters_runs_as_a_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    units: list[bool] = []
    run_unit = endpoint_module.run_unit

    async def recording(engine: Engine, work: commit.Work[Any], *, write: bool) -> Any:
        units.append(write)
        return await run_unit(engine, work, write=write)

    monkeypatch.setattr(endpoint_module, "run_unit", recording)
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"})
    wrong = Credentials(api.creds.username, "f" * 32, api.creds.account_sid)
    fleets: Table = Fleet.__table__  # type: ignore[assignment]

    with nothing_written(api, fleets):
        assert_error(api.post("/v1/Fleets", data={}), 400, 20001, "NetworkAccessProfile")
        assert_error(api.post("/v1/Fleets", data={}, as_=wrong), 401, 20003)
        bad_limit = {"NetworkAccessProfile": "p", "DataLimit": "many"}
        assert_error(api.post("/v1/Fleets", data=bad_limit), 400, 20001, "DataLimit")
    created = api.post("/v1/Fleets", data={"NetworkAccessProfile": "p"})

    assert created.status_code == 201, created.text
    assert units == [True, False, False, False, True]


def test_writes_that_keep_arriving_share_one_commit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite_only(api)
    groups: list[int] = []
    together = commit.run_together

    def recording(engine: Engine, works: Any, **options: Any) -> Any:
        groups.append(len(works))
        return together(engine, works, **options)

    monkeypatch.setattr(commit, "run_together", recording)

    def probe(tx: Tx) -> int:
        return tx.insert(Job, job_values("probe", {}, due_at=None, now=api.clock.now())).id

    async def one_per_turn_of_the_loop() -> list[int]:
        units = []
        for _ in range(3):
            units.append(asyncio.ensure_future(commit.run_unit(api.engine, probe, write=True)))
            await asyncio.sleep(0)
        return await asyncio.gather(*units)

    ids = asyncio.run(one_per_turn_of_the_loop())

    assert groups == [3]
    stored_ids = [row["id"] for row in stored(api.engine, Job.__table__, kind="probe")]  # type: ignore[arg-type]
    assert stored_ids == ids


def test_writes_wait_off_the_loop_while_another_process_writes(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite_only(api)
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"})
    # Another process's connection (outside this engine and its lock) holds SQLite's lock.
    other = sqlite3.connect(api.engine.url.database or "", check_same_thread=False)
    other.isolation_level = None
    other.execute("BEGIN IMMEDIATE")

    with released_when_the_writes_wait(monkeypatch, lambda: other.execute("COMMIT")) as seen:
        created = api.post("/v1/Fleets", data={"NetworkAccessProfile": "p"})
    other.close()

    assert created.status_code == 201, created.text
    assert seen == ["waited"], "the write did not wait for the other process"


@contextmanager
def released_when_the_writes_wait(
    monkeypatch: pytest.MonkeyPatch, release: Callable[[], object]
) -> Iterator[list[str]]:
    """Calls `release` when writes begin to wait for the database in a thread; yields
    what happened: "waited"."""
    seen: list[str] = []
    together = commit.run_together

    def waiting(engine: Engine, works: Any, *, wait: bool, **options: Any) -> Any:
        if wait:
            seen.append("waited")
            release()
        return together(engine, works, wait=wait, **options)

    monkeypatch.setattr(commit, "run_together", waiting)
    yield seen
