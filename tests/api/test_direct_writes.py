"""Direct writes (`fleetsim.http.direct`): creating a Fleet, sending an SMS Command and
changing a Sim's status without the ORM store the same rows and answer the same bodies as
the full handler; every request they do not own gets the full handler's answer and
leaves nothing behind; a busy database or a failing direct write costs no request."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select
from sqlalchemy.orm import Session

from fleetsim.core.dates import iso
from fleetsim.core.errors import InvalidParameter
from fleetsim.db.direct import direct_writes
from fleetsim.db.tables import Fleet, Job, Sim, SmsCommand
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.jobs import job_values
from fleetsim.http import direct as direct_lane
from fleetsim.http import endpoint
from fleetsim.http.direct import (
    DirectCall,
    DirectHandler,
    DirectRequest,
    answer_directly,
    answer_together,
)
from fleetsim.http.runtime import Runtime
from fleetsim.http.urls import Urls
from fleetsim.resources.fleets import direct as fleets_direct
from fleetsim.resources.sims.lifecycle import COMPLETE_UPDATE, plan_update, scheduled_values
from fleetsim.resources.sms_commands.lifecycle import DELIVER
from tests.api.conftest import Api, Credentials, assert_error
from tests.api.network_fixtures import advance, connectable_sim
from tests.api.sim_helpers import new_fleet, register_many
from tests.api.test_direct_answers import orm_statements

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


def test_a_fleet_created_directly_is_stored_as_through_the_full_handler(api: Api) -> None:
    profile = api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"}).json()["sid"]
    key = api.new_api_key()  # API keys are left to the full handler
    form = {
        "NetworkAccessProfile": "p",
        "DataLimit": "250",
        "DataEnabled": "false",
        "SmsCommandsUrl": "https://example.com/sms",
        "SmsCommandsMethod": "GET",
        "IpCommandsUrl": "https://example.com/ip",
    }

    with orm_statements(api.engine) as seen:
        direct = api.post("/v1/Fleets", data={**form, "UniqueName": "direct"})
    full = api.post("/v1/Fleets", data={**form, "UniqueName": "full"}, as_=key)

    assert seen == [], "the Fleet was not created directly"
    assert direct.status_code == full.status_code == 201, direct.text
    assert body_but(direct.json(), "unique_name") == body_but(full.json(), "unique_name")
    assert direct.json()["network_access_profile_sid"] == profile
    assert direct.json()["unique_name"] == "direct"
    assert api.get(direct.json()["url"]).json() == direct.json()
    table = Fleet.__table__
    (direct_row,) = stored(api.engine, table, sid=direct.json()["sid"])  # type: ignore[arg-type]
    (full_row,) = stored(api.engine, table, sid=full.json()["sid"])  # type: ignore[arg-type]
    same_but_identity(direct_row, full_row)


def test_an_sms_command_sent_directly_is_stored_as_through_the_full_handler(api: Api) -> None:
    sim = connectable_sim(api)
    key = api.new_api_key()
    form = {"Sim": sim.sid, "Payload": "ping {1}", "CallbackUrl": "https://example.com/cb"}

    with orm_statements(api.engine) as seen:
        direct = api.post("/v1/SmsCommands", data=form)
    full = api.post("/v1/SmsCommands", data=form, as_=key)

    assert seen == [], "the command was not created directly"
    assert direct.status_code == full.status_code == 201, direct.text
    assert body_but(direct.json()) == body_but(full.json())
    assert api.get(direct.json()["url"]).json() == direct.json()
    commands = SmsCommand.__table__
    (direct_row,) = stored(api.engine, commands, sid=direct.json()["sid"])  # type: ignore[arg-type]
    (full_row,) = stored(api.engine, commands, sid=full.json()["sid"])  # type: ignore[arg-type]
    same_but_identity(direct_row, full_row)
    direct_job, full_job = (
        job_for(api, DELIVER, "sms_command_id", row["id"]) for row in (direct_row, full_row)
    )
    same_but_identity(direct_job, full_job)


def test_a_status_changed_directly_is_stored_as_through_the_full_handler(api: Api) -> None:
    first, second = connectable_sim(api), connectable_sim(api)
    api.post(f"/v1/Sims/{first.sid}", data={"UniqueName": "first"})
    api.post(f"/v1/Sims/{second.sid}", data={"UniqueName": "second"})
    key = api.new_api_key()
    form = {"Status": "inactive", "CallbackUrl": "https://example.com/cb", "CallbackMethod": "GET"}
    api.clock.advance(dt.timedelta(seconds=7))  # the update's time is not the last one's

    with orm_statements(api.engine) as seen:
        direct = api.post("/v1/Sims/first", data=form)
    full = api.post(f"/v1/Sims/{second.sid}", data=form, as_=key)

    assert seen == [], "the status was not changed directly"
    assert direct.status_code == full.status_code == 202, direct.text
    names = ("iccid", "fleet_sid", "unique_name", "links", "date_created")
    assert body_but(direct.json(), *names) == body_but(full.json(), *names)
    assert api.get(f"/v1/Sims/{first.sid}", as_=key).json() == direct.json()
    assert direct.json()["status"] == "scheduled"
    assert direct.json()["date_updated"] == iso(api.clock.now())
    sims: Table = Sim.__table__  # type: ignore[assignment]
    (direct_row,) = stored(api.engine, sims, sid=first.sid)
    (full_row,) = stored(api.engine, sims, sid=second.sid)
    # Each Sim is in its own Fleet, and was registered at its own time: what the update
    # wrote is the same.
    written = [
        *scheduled_values(
            "active",
            plan_update("active", 1, status="inactive", fleet_given=False, fleet_id=1),
            1,
            callback_url=None,
            callback_method=None,
        ),
        "date_updated",
    ]
    assert {k: direct_row[k] for k in written} == {k: full_row[k] for k in written}
    assert direct_row["settled_status"] == "active"
    assert direct_row["callback_method"] == "GET"
    same_but_identity(
        job_for(api, COMPLETE_UPDATE, "sim_id", direct_row["id"]),
        job_for(api, COMPLETE_UPDATE, "sim_id", full_row["id"]),
    )

    advance(api, 60)
    assert api.get(f"/v1/Sims/{first.sid}").json()["status"] == "inactive"


def test_a_new_sim_moved_and_made_ready_directly_is_stored_as_through_the_full_handler(
    api: Api,
) -> None:
    fleet = new_fleet(api, "moved-to")
    direct_sim, full_sim = register_many(api, 2)
    key = api.new_api_key()
    form = {"Fleet": "moved-to", "Status": "ready"}
    api.clock.advance(dt.timedelta(seconds=7))

    with orm_statements(api.engine) as seen:
        direct = api.post(f"/v1/Sims/{direct_sim['sid']}", data=form)
    full = api.post(f"/v1/Sims/{full_sim['sid']}", data=form, as_=key)

    assert seen == [], "the Sim was not updated directly"
    assert direct.status_code == full.status_code == 202, direct.text
    assert direct.json()["fleet_sid"] == full.json()["fleet_sid"] == fleet
    names = ("iccid", "links")
    assert body_but(direct.json(), *names) == body_but(full.json(), *names)
    assert api.get(f"/v1/Sims/{direct_sim['sid']}", as_=key).json() == direct.json()
    sims: Table = Sim.__table__  # type: ignore[assignment]
    (direct_row,) = stored(api.engine, sims, sid=direct_sim["sid"])
    (full_row,) = stored(api.engine, sims, sid=full_sim["sid"])
    same_but_identity(direct_row, full_row)
    assert (direct_row["settled_status"], direct_row["target_status"]) == ("new", "ready")

    advance(api, 60)
    assert api.get(f"/v1/Sims/{direct_sim['sid']}").json()["status"] == "ready"


def job_for(api: Api, kind: str, key: str, value: int) -> dict[str, Any]:
    """The one pending job of `kind` whose payload's `key` is `value`, without its id and
    subject."""
    table: Table = Job.__table__  # type: ignore[assignment]
    pending = stored(api.engine, table, state="pending", kind=kind)
    jobs = [job for job in pending if json.loads(job["payload"]).get(key) == value]
    (job,) = jobs
    return {**job, "payload": sorted(json.loads(job["payload"])), "subject": None}


def test_fleets_the_direct_path_does_not_own_get_the_full_handlers_answer(api: Api) -> None:
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


def test_commands_and_updates_the_direct_path_does_not_own_get_the_full_handlers_answer(
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

    # A status change with a new name is the full handler's, and works.
    with orm_statements(api.engine) as seen:
        named = api.post(f"/v1/Sims/{new.sid}", data={"Status": "ready", "UniqueName": "n"})
    assert named.status_code == 202, named.text
    assert named.json()["unique_name"] == "n"
    assert seen, "the full handler did not answer"


def test_a_failing_direct_write_leaves_nothing_and_the_full_handler_answers(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"})

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug after the insert")

    monkeypatch.setattr(fleets_direct, "render_fleet", broken)
    with caplog.at_level(logging.ERROR, logger="fleetsim.http"):
        created = api.post("/v1/Fleets", data={"NetworkAccessProfile": "p", "UniqueName": "once"})

    # Had the direct insert stayed, the full handler's would have met its UniqueName (409).
    assert created.status_code == 201, created.text
    assert "the direct answer of /v1/Fleets failed" in caplog.text
    listed = api.get("/v1/Fleets").json()["fleets"]
    assert [fleet["unique_name"] for fleet in listed] == ["once"]


@pytest.mark.parametrize("how", ["declines", "refuses"])
def test_a_direct_write_that_declines_after_writing_leaves_nothing(api: Api, how: str) -> None:
    def writes_then_leaves(call: DirectCall) -> None:
        call.writes.insert(Job, job_values("probe", {}, due_at=None, now=api.clock.now()))
        if how == "refuses":
            raise InvalidParameter("Probe", "is refused after the insert")

    runtime: Runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    credentials = (api.creds.username, api.creds.password)
    request = DirectRequest(credentials, {}, [], Urls("http://fleetsim.test"), [])

    assert answer_directly(runtime, writes_then_leaves, request) is None
    assert stored(api.engine, Job.__table__, kind="probe") == []  # type: ignore[arg-type]


def test_direct_writes_committed_together_keep_each_others_failures_out(api: Api) -> None:
    api.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p"})
    runtime: Runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    credentials = (api.creds.username, api.creds.password)
    urls = Urls("http://fleetsim.test")

    def fleet(name: str) -> tuple[DirectHandler, DirectRequest]:
        form = [("NetworkAccessProfile", "p"), ("UniqueName", name)]
        return fleets_direct.create_fleet_directly, DirectRequest(credentials, {}, [], urls, form)

    def writes_then_declines(call: DirectCall) -> None:
        call.writes.insert(Job, job_values("probe", {}, due_at=None, now=api.clock.now()))

    declining = (writes_then_declines, DirectRequest(credentials, {}, [], urls, []))
    answers = answer_together(runtime, [fleet("a"), fleet("a"), declining, fleet("b")], wait=False)

    assert [None if a is None else a[0] for a in answers] == [201, None, None, 201]
    names = [row["unique_name"] for row in stored(api.engine, Fleet.__table__)]  # type: ignore[arg-type]
    assert names == ["a", "b"]
    assert stored(api.engine, Job.__table__, kind="probe") == []  # type: ignore[arg-type]
    # The one left to the full handler gets its answer there.
    assert_error(api.post("/v1/Fleets", data=dict(fleet("a")[1].form or [])), 409, 20409, "'a'")


def test_a_row_inserted_directly_takes_the_defaults_a_flush_gives(api: Api) -> None:
    values = {"payload": "{}", "state": "pending", "max_attempts": 3, "created_at": api.clock.now()}
    # `attempts` has a default (0); `last_error` has none.
    with direct_writes(api.engine) as writes:
        unset = writes.insert(Job, {**values, "kind": "direct"})
        given_none = writes.insert(Job, {**values, "kind": "direct", "attempts": None})
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


def test_writes_wait_off_the_loop_while_this_process_has_another_writer(
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
    with released_when_the_writes_wait(monkeypatch, release.set) as seen:
        created = api.post("/v1/Fleets", data={"NetworkAccessProfile": "p"})
    thread.join(timeout=30)

    assert created.status_code == 201, created.text
    assert seen == ["waited"], "the direct write did not wait for the writer"


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
    assert seen == ["waited"], "the direct write did not wait for the other process"


@contextmanager
def released_when_the_writes_wait(
    monkeypatch: pytest.MonkeyPatch, release: Callable[[], object]
) -> Iterator[list[str]]:
    """Calls `release` when direct writes begin to wait for the database in a thread;
    yields what happened: "waited", and "full handler" if one answered instead."""
    seen: list[str] = []
    together = direct_lane.answer_together

    def waiting(runtime: Runtime, requests: Any, *, wait: bool) -> Any:
        if wait:
            seen.append("waited")
            release()
        return together(runtime, requests, wait=wait)

    @contextmanager
    def full_handler(engine: Engine, *, write: bool) -> Iterator[Session]:
        seen.append("full handler")
        with unit_of_work(engine, write=write) as session:
            yield session

    monkeypatch.setattr(direct_lane, "answer_together", waiting)
    monkeypatch.setattr(endpoint, "unit_of_work", full_handler)
    yield seen
