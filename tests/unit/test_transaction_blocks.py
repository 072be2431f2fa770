"""When a unit of work opens its transaction block on PostgreSQL (`db.dialect.begin_write`):
at its first statement that writes or locks, never for its plain reads, and never for a
unit whose only write is its `last`; the same contract holds on SQLite, which began its
transaction already. And an insert that finds the row it refers to itself (`lookup`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.util import greenlet_spawn

from fleetsim.core.clock import FrozenClock
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.asyncpg_cursor import AsyncpgCursor
from fleetsim.db.dialect import dispose_loop_engine, is_sqlite, loop_engine, needs_block
from fleetsim.db.store import Lookup, Tx, detached
from fleetsim.db.tables import Account, Fleet, Job, NetworkAccessProfile
from fleetsim.db.units import transaction
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.jobs import job_values
from fleetsim.resources.accounts.service import create_account
from fleetsim.resources.fleets.service import NewFleet, new_fleet_values
from fleetsim.resources.network_access_profiles.service import create_network_access_profile


def test_only_a_plain_select_runs_outside_the_block() -> None:
    assert not needs_block("SELECT id FROM sims WHERE account_id = ? AND sid = ?")
    assert not needs_block("  select count(*) from jobs")
    for sql in (
        "SELECT id FROM sims WHERE id = ? FOR UPDATE OF sims",
        "SELECT id FROM jobs ORDER BY due_at LIMIT ? FOR UPDATE OF jobs SKIP LOCKED",
        "SELECT id FROM fleets WHERE id = ? for no key update",
        "SELECT id FROM fleets FOR SHARE",
        "SELECT pg_advisory_xact_lock(7)",
        "SELECT pg_try_advisory_xact_lock(7)",
        "SELECT txid_current()",
        "SELECT pg_current_xact_id()",
        "SELECT pg_notify('fleetsim_credentials', '')",
        "SELECT nextval('sims_id_seq')",
        "UPDATE jobs SET state = 'done' WHERE id = ?",
        "INSERT INTO jobs (kind) VALUES (?)",
        "DELETE FROM jobs WHERE id = ?",
        "WITH gone AS (DELETE FROM jobs RETURNING id) SELECT count(*) FROM gone",
    ):
        assert needs_block(sql), sql


@pytest.fixture(params=["thread", "loop"])
def run(request: pytest.FixtureRequest, engine: Engine) -> Callable[..., Any]:
    """Run a write unit of work as the job worker does (a thread's engine: psycopg on
    PostgreSQL) or as a request does (the event loop's: asyncpg)."""
    if request.param == "loop" and is_sqlite(engine):
        pytest.skip("SQLite has no engine of the loop")

    def in_a_unit(work: Callable[[Tx], Any]) -> Any:
        if request.param == "thread":
            with transaction(engine, write=True) as tx:
                return work(tx)

        def alone() -> Any:
            with transaction(loop_engine(engine), write=True) as tx:
                return work(tx)

        async def on_the_loop() -> Any:
            try:
                return await greenlet_spawn(alone)
            finally:
                await dispose_loop_engine(engine)

        return asyncio.run(on_the_loop())

    return in_a_unit


def _in_a_block(engine: Engine, tx: Tx) -> bool:
    """Whether the backend of `tx` holds a transaction block open, as another connection
    sees it."""
    (pid,) = tx.one("SELECT pg_backend_pid()") or (0,)
    with engine.connect() as other:
        state = other.exec_driver_sql(
            "SELECT state FROM pg_stat_activity WHERE pid = %(pid)s", {"pid": pid}
        ).scalar_one()
    return bool(state == "idle in transaction")


def _job(clock: FrozenClock) -> dict[str, Any]:
    return job_values("probe", {}, due_at=None, now=clock.now())


def _log_commands(engine: Engine, commands: list[str]) -> None:
    """Append to `commands` what asyncpg sends on the connections the loop's engine opens
    from now on: its plain commands (BEGIN, COMMIT), not its prepared statements, and
    each a little after it ran."""

    @event.listens_for(loop_engine(engine).pool, "connect")
    def _log(_dbapi: Any, record: Any) -> None:
        record.driver_connection.add_query_logger(lambda logged: commands.append(logged.query))


def _jobs(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Job)).scalar_one())


def test_reads_run_alone_and_the_first_write_opens_the_block(
    engine: Engine, clock: FrozenClock, run: Callable[..., Any]
) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: SQLite's write transaction holds its lock from the start")
    seen: list[bool] = []

    def work(tx: Tx) -> None:
        tx.all("SELECT id FROM jobs")
        seen.append(_in_a_block(engine, tx))
        tx.insert(Job, _job(clock))
        seen.append(_in_a_block(engine, tx))

    run(work)

    assert seen == [False, True]
    assert _jobs(engine) == 1


def test_a_locking_read_opens_the_block(
    engine: Engine, clock: FrozenClock, run: Callable[..., Any]
) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: SQLite's write transaction holds its lock from the start")
    run(lambda tx: tx.insert(Job, _job(clock)))
    seen: list[bool] = []

    def work(tx: Tx) -> None:
        tx.all("SELECT id FROM jobs FOR UPDATE OF jobs")
        seen.append(_in_a_block(engine, tx))

    run(work)

    assert seen == [True]


def test_a_last_insert_after_reads_runs_alone(engine: Engine, clock: FrozenClock) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: SQLite's write transaction holds its lock from the start")
    commands: list[str] = []  # the plain commands asyncpg sent: BEGIN among them

    def reads_then_inserts(last: bool) -> None:
        with transaction(loop_engine(engine), write=True) as tx:
            tx.all("SELECT id FROM jobs")
            tx.insert(Job, _job(clock), last=last)

    async def on_the_loop() -> dict[bool, list[str]]:
        try:
            _log_commands(engine, commands)

            sent = {}
            for last in (True, False):
                commands.clear()
                await greenlet_spawn(reads_then_inserts, last)
                sent[last] = [c.split()[0].strip(";") for c in commands]
            return sent
        finally:
            await dispose_loop_engine(engine)

    sent = asyncio.run(on_the_loop())

    assert "BEGIN" not in sent[True], sent
    assert "BEGIN" in sent[False], sent
    assert _jobs(engine) == 2


def test_a_last_insert_waits_for_the_end_of_its_unit(
    engine: Engine, clock: FrozenClock, run: Callable[..., Any]
) -> None:
    counted: list[int] = []

    def work(tx: Tx) -> Job:
        job = tx.insert(Job, _job(clock), last=True)
        counted.append(_jobs(engine))
        return job

    job = run(work)

    assert counted == [0]
    assert _jobs(engine) == 1
    assert "id" not in job.__dict__  # it had none to give


def test_a_unit_that_fails_after_its_last_insert_leaves_nothing(
    engine: Engine, clock: FrozenClock, run: Callable[..., Any]
) -> None:
    def work(tx: Tx) -> None:
        tx.insert(Job, _job(clock), last=True)
        raise RuntimeError("a bug after the insert")

    with pytest.raises(RuntimeError, match="a bug after the insert"):
        run(work)

    assert _jobs(engine) == 0


def test_a_statement_after_the_last_is_refused(
    engine: Engine, clock: FrozenClock, run: Callable[..., Any]
) -> None:
    def work(tx: Tx) -> None:
        tx.insert(Job, _job(clock), last=True)
        tx.all("SELECT id FROM jobs")

    with pytest.raises(RuntimeError, match="said was its last"):
        run(work)

    assert _jobs(engine) == 0


# --- an insert that finds a row it refers to (`Tx.insert`'s `lookup`) -------------------


class NoProfile(Exception):
    pass


def _accounts_and_profile(
    engine: Engine, clock: FrozenClock, sids: SidFactory
) -> tuple[Account, Account, NetworkAccessProfile]:
    """Two accounts; a profile, named "mine", of the first."""
    with unit_of_work(engine, write=True) as session:
        owner, other = (
            create_account(session, friendly_name=name, parent=None, clock=clock, sids=sids)
            for name in ("owner", "other")
        )
        profile = create_network_access_profile(
            Tx.of(session), owner, unique_name="mine", networks=[], clock=clock, sids=sids
        )
        session.expunge_all()
    return owner, other, profile


def _insert_fleet(
    tx: Tx, account: Account, ref: str, clock: FrozenClock, sids: SidFactory, *, last: bool
) -> Fleet:
    profile = detached(NetworkAccessProfile, {"id": None, "sid": None})
    values = new_fleet_values(account.id, NewFleet(ref), profile, now=clock.now(), sids=sids)
    lookup = Lookup(
        "network_access_profile_id",
        "network_access_profiles",
        account.id,
        ref,
        Prefix.NETWORK_ACCESS_PROFILE,
        NoProfile,
    )
    return tx.insert(Fleet, values, last=last, lookup=lookup)


def _fleets(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(select(Fleet.account_id, Fleet.network_access_profile_id))
        return [(row[0], row[1]) for row in rows]


def test_an_insert_finds_the_row_it_refers_to_by_sid_or_name(
    engine: Engine, clock: FrozenClock, sids: SidFactory, run: Callable[..., Any]
) -> None:
    owner, _, profile = _accounts_and_profile(engine, clock, sids)
    for ref in (profile.sid, profile.sid.lower().replace("ha", "HA", 1), "mine"):
        fleet = run(lambda tx, ref=ref: _insert_fleet(tx, owner, ref, clock, sids, last=False))
        assert fleet.network_access_profile_id == profile.id
        assert isinstance(fleet.id, int)
    run(lambda tx: _insert_fleet(tx, owner, profile.sid, clock, sids, last=True))

    assert _fleets(engine) == [(owner.id, profile.id)] * 4


def test_an_insert_whose_row_is_missing_raises_and_inserts_nothing(
    engine: Engine, clock: FrozenClock, sids: SidFactory, run: Callable[..., Any]
) -> None:
    owner, other, profile = _accounts_and_profile(engine, clock, sids)
    for account, ref in ((owner, "HA" + "0" * 32), (owner, "theirs"), (other, profile.sid)):
        for last in (False, True):
            with pytest.raises(NoProfile):
                run(
                    lambda tx, a=account, r=ref, x=last: _insert_fleet(
                        tx, a, r, clock, sids, last=x
                    )
                )

    assert _fleets(engine) == []


def test_a_last_insert_with_a_lookup_is_its_units_only_statement(
    engine: Engine, clock: FrozenClock, sids: SidFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL: SQLite's write transaction holds its lock from the start")
    owner, _, profile = _accounts_and_profile(engine, clock, sids)
    commands: list[str] = []  # asyncpg's plain commands (BEGIN, COMMIT), not its prepared ones
    statements: list[str] = []  # what the Tx sent through its cursor
    execute = AsyncpgCursor.execute

    def recorded(cursor: AsyncpgCursor, sql: str, params: Any = ()) -> None:
        statements.append(sql)
        execute(cursor, sql, params)

    def create() -> None:
        with transaction(loop_engine(engine), write=True) as tx:
            _insert_fleet(tx, owner, profile.sid, clock, sids, last=True)

    async def on_the_loop() -> None:
        try:
            _log_commands(engine, commands)

            await greenlet_spawn(create)  # opens the connection: its set-up is logged too
            commands.clear()
            monkeypatch.setattr(AsyncpgCursor, "execute", recorded)
            await greenlet_spawn(create)
        finally:
            await dispose_loop_engine(engine)

    asyncio.run(on_the_loop())

    assert [s.split()[0] for s in statements] == ["INSERT"], statements
    assert commands == [], commands
    assert _fleets(engine) == [(owner.id, profile.id)] * 2


def test_nested_savepoints_pair_up(engine: Engine, clock: FrozenClock) -> None:
    """Every savepoint has one name: a statement names the most recent of that name."""

    def unit(tx: Tx, *, inner: bool, fails: bool) -> None:
        with tx.savepoint():
            tx.insert(Job, _job(clock))
            if inner:
                with tx.savepoint():
                    tx.insert(Job, _job(clock))
            if fails:
                raise RuntimeError("the unit fails")

    with transaction(engine, write=True) as tx:
        with tx.savepoint():
            tx.insert(Job, _job(clock))  # kept
            with pytest.raises(RuntimeError):
                unit(tx, inner=False, fails=True)  # undone with its savepoint
            unit(tx, inner=False, fails=False)  # kept
        with pytest.raises(RuntimeError):
            unit(tx, inner=True, fails=True)  # the inner one released into it, then undone
        unit(tx, inner=True, fails=False)  # both kept

    assert _jobs(engine) == 4
