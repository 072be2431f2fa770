"""Getting a database ready to serve: engine, migrations, the network catalogue, accounts."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from fleetsim.core.clock import Clock
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.migrate import upgrade
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.accounts.service import create_account, ensure_account
from fleetsim.resources.networks.catalogue import sync_catalogue

__all__ = ["StartupAccount", "ensure_startup_account", "prepare_database"]

ACCOUNT_SID_ENV = "FLEETSIM_ACCOUNT_SID"
AUTH_TOKEN_ENV = "FLEETSIM_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass(frozen=True)
class StartupAccount:
    sid: str
    auth_token: str | None  # known only when just created or given by the environment
    created: bool


def prepare_database(url: str) -> Engine:
    """An engine on `url`, migrated to the newest schema, with the network catalogue."""
    engine = create_database_engine(url)
    upgrade(engine)
    with unit_of_work(engine, write=True) as session:
        sync_catalogue(session)
    return engine


def ensure_startup_account(
    engine: Engine, *, clock: Clock, sids: SidFactory
) -> StartupAccount | None:
    """The account to announce at start: the one from the environment, or a new one on an
    empty database; None when accounts exist and the environment names none."""
    sid = os.environ.get(ACCOUNT_SID_ENV)
    token = os.environ.get(AUTH_TOKEN_ENV)
    with unit_of_work(engine, write=True) as session:
        if sid and token:
            account = ensure_account(session, sid=sid, auth_token=token, clock=clock)
            return StartupAccount(account.sid, account.auth_token, created=False)
        if session.execute(select(func.count()).select_from(Account)).scalar_one() > 0:
            return None
        account = create_account(
            session, friendly_name="fleetsim demo account", parent=None, clock=clock, sids=sids
        )
        return StartupAccount(account.sid, account.auth_token, created=True)
