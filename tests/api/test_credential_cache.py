"""Credentials kept in memory on PostgreSQL: a request authenticates without a round trip,
and a changed credential stops working at once on the node that changed it, and as soon
as the notice arrives on every other node; SQLite keeps nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session

from fleetsim.control.service import reset_state
from fleetsim.db.dialect import create_database_engine, is_sqlite
from fleetsim.db.notices import LISTENER_NAME
from fleetsim.db.tables import Account, ApiKey
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.accounts.cache import CredentialCache, cache_of
from tests.api.conftest import Api, Credentials, assert_error

WAIT_SECONDS = 10.0
STOP_LISTENERS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"
)


def wait_until(cache: CredentialCache, condition: Callable[[], bool]) -> None:
    """Wait for the cache to reach `condition` (it signals each time it moves)."""
    with cache.moved:
        assert cache.moved.wait_for(condition, timeout=WAIT_SECONDS), "the cache never got there"


@pytest.fixture
def pg_api(api: Api) -> Api:
    if is_sqlite(api.engine):
        pytest.skip("PostgreSQL keeps credentials; SQLite does not")
    return api


@pytest.fixture
def another_node(pg_api: Api) -> Iterator[Engine]:
    """An engine of its own on the same database, as another fleetsim node has. It
    changes credentials in plain SQL: through the ORM models in this process, a change
    is this node's own."""
    other = create_database_engine(pg_api.engine.url.render_as_string(hide_password=False))
    yield other
    other.dispose()


def hits_of(api: Api) -> int:
    return cache_of(api.engine).hits


def test_a_second_request_authenticates_from_memory(pg_api: Api) -> None:
    cache = cache_of(pg_api.engine)
    assert cache.in_use  # the app started once it was listening
    assert pg_api.get("/v1/Fleets").status_code == 200
    before = hits_of(pg_api)
    assert pg_api.get("/v1/Fleets").status_code == 200
    assert hits_of(pg_api) == before + 1


def test_another_password_for_a_kept_account_is_refused(pg_api: Api) -> None:
    assert pg_api.get("/v1/Fleets").status_code == 200
    wrong = Credentials(pg_api.creds.username, pg_api.creds.password + "x", "")
    assert_error(pg_api.get("/v1/Fleets", as_=wrong), 401, 20003)
    assert pg_api.get("/v1/Fleets").status_code == 200


def test_a_key_deleted_on_another_node_stops_working_when_the_notice_arrives(
    pg_api: Api, another_node: Engine
) -> None:
    key = pg_api.new_api_key()
    assert pg_api.get("/v1/Fleets", as_=key).status_code == 200
    before = hits_of(pg_api)
    assert pg_api.get("/v1/Fleets", as_=key).status_code == 200
    assert hits_of(pg_api) == before + 1  # kept: only the notice can end it
    cache = cache_of(pg_api.engine)
    generation = cache.generation
    with another_node.begin() as connection:
        connection.execute(text("DELETE FROM api_keys WHERE sid = :sid"), {"sid": key.username})
    wait_until(cache, lambda: cache.generation > generation)
    assert_error(pg_api.get("/v1/Fleets", as_=key), 401, 20003)
    assert pg_api.get("/v1/Fleets").status_code == 200


def test_an_account_suspended_on_another_node_stops_working_when_the_notice_arrives(
    pg_api: Api, another_node: Engine
) -> None:
    assert pg_api.get("/v1/Fleets").status_code == 200
    cache = cache_of(pg_api.engine)
    generation = cache.generation
    with another_node.begin() as connection:
        connection.execute(
            text("UPDATE accounts SET status = 'suspended' WHERE sid = :sid"),
            {"sid": pg_api.creds.account_sid},
        )
    wait_until(cache, lambda: cache.generation > generation)
    assert_error(pg_api.get("/v1/Fleets"), 401, 20003)


def test_a_change_on_this_node_ends_the_kept_credentials_before_it_commits(pg_api: Api) -> None:
    key = pg_api.new_api_key()
    assert pg_api.get("/v1/Fleets", as_=key).status_code == 200
    cache = cache_of(pg_api.engine)
    with unit_of_work(pg_api.engine, write=True) as session:
        session.delete(session.query(ApiKey).filter_by(sid=key.username).one())
        session.flush()
        during = cache.in_use  # until this transaction ends
    assert (during, cache.in_use) == (False, True)
    assert_error(pg_api.get("/v1/Fleets", as_=key), 401, 20003)


def bulk_change_ends_the_kept_credentials(api: Api, change: Callable[[Session], object]) -> None:
    """`change`, a statement the mappers' events never see, ends what is kept from the
    moment it is made, as a change through the models does."""
    assert api.get("/v1/Fleets").status_code == 200
    cache = cache_of(api.engine)
    with unit_of_work(api.engine, write=True) as session:
        change(session)
        during = cache.in_use  # until this transaction ends
    assert (during, cache.in_use) == (False, True)
    assert_error(api.get("/v1/Fleets"), 401, 20003)


def test_a_reset_deleting_the_accounts_ends_the_kept_credentials_before_it_commits(
    pg_api: Api,
) -> None:
    bulk_change_ends_the_kept_credentials(
        pg_api, lambda session: reset_state(session, keep_accounts=False)
    )


def test_a_bulk_update_of_accounts_ends_the_kept_credentials_before_it_commits(
    pg_api: Api,
) -> None:
    suspend = update(Account).where(Account.sid == pg_api.creds.account_sid)
    bulk_change_ends_the_kept_credentials(
        pg_api, lambda session: session.execute(suspend.values(status="suspended"))
    )


def suspend_then_change_my_mind(api: Api) -> None:
    with unit_of_work(api.engine, write=True) as session:
        account = session.query(Account).filter_by(sid=api.creds.account_sid).one()
        account.status = "suspended"
        session.flush()
        raise RuntimeError("changed my mind")


def test_a_key_deleted_through_the_api_stops_working_at_once_and_keeping_resumes(
    pg_api: Api,
) -> None:
    key = pg_api.new_api_key()
    assert pg_api.get("/v1/Fleets", as_=key).status_code == 200
    path = f"/2010-04-01/Accounts/{pg_api.creds.account_sid}/Keys/{key.username}.json"
    assert pg_api.delete(path).status_code == 204
    assert_error(pg_api.get("/v1/Fleets", as_=key), 401, 20003)
    cache = cache_of(pg_api.engine)
    assert cache.in_use  # the deleting request's transaction has ended
    assert pg_api.get("/v1/Fleets").status_code == 200
    before = hits_of(pg_api)
    assert pg_api.get("/v1/Fleets").status_code == 200
    assert hits_of(pg_api) == before + 1


def test_a_change_rolled_back_changes_nothing(pg_api: Api) -> None:
    cache = cache_of(pg_api.engine)
    with pytest.raises(RuntimeError, match="changed my mind"):
        suspend_then_change_my_mind(pg_api)
    assert cache.in_use
    assert pg_api.get("/v1/Fleets").status_code == 200


def test_nothing_is_kept_while_no_notice_can_be_heard(pg_api: Api, another_node: Engine) -> None:
    cache = cache_of(pg_api.engine)
    with another_node.begin() as connection:
        stopped = connection.execute(
            STOP_LISTENERS,
            {"name": LISTENER_NAME},
        ).all()
    assert stopped == [(True,)]
    wait_until(cache, lambda: not cache.in_use)
    before = hits_of(pg_api)
    assert pg_api.get("/v1/Fleets").status_code == 200
    assert pg_api.get("/v1/Fleets").status_code == 200
    assert hits_of(pg_api) == before  # each asked the database
    wait_until(cache, lambda: cache.in_use)  # listening again
    assert pg_api.get("/v1/Fleets").status_code == 200
    assert pg_api.get("/v1/Fleets").status_code == 200
    assert hits_of(pg_api) == before + 1


def test_sqlite_keeps_nothing(api: Api) -> None:
    if not is_sqlite(api.engine):
        pytest.skip("SQLite only")
    for _ in range(3):
        assert api.get("/v1/Fleets").status_code == 200
    assert not cache_of(api.engine).in_use
    assert hits_of(api) == 0
