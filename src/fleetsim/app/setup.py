"""Composition: a database ready to serve, the runtime every request and job shares, the
job handlers, and the accounts announced at start."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from fleetsim.core.clock import Clock, SystemClock
from fleetsim.core.sids import SidFactory
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.migrate import upgrade
from fleetsim.db.tables import Account
from fleetsim.db.uow import startup_unit_of_work
from fleetsim.demo import JOB_HANDLERS as DEMO_JOBS
from fleetsim.engine.clock import ClockMode, clock_for, configure_clock
from fleetsim.engine.worker import JobContext, JobHandler, Worker
from fleetsim.http.runtime import Runtime
from fleetsim.network.catalogue import sync_catalogue
from fleetsim.network.usage import JOB_HANDLERS as USAGE_JOBS
from fleetsim.resources.accounts.operator import ensure_operator
from fleetsim.resources.accounts.service import (
    auth_token_of,
    check_account_credentials,
    create_account,
    ensure_account,
)
from fleetsim.resources.bulk_operations.service import JOB_HANDLERS as BULK_JOBS
from fleetsim.resources.esim_profiles.lifecycle import JOB_HANDLERS as ESIM_PROFILE_JOBS
from fleetsim.resources.ip_commands.delivery import JOB_HANDLERS as IP_COMMAND_JOBS
from fleetsim.resources.settings_updates.lifecycle import JOB_HANDLERS as SETTINGS_UPDATE_JOBS
from fleetsim.resources.sims.lifecycle import COMPLETE_UPDATE, complete_update
from fleetsim.resources.sms_commands import lifecycle as sms_commands
from fleetsim.webhooks.service import DELIVER, webhook_deliverer
from fleetsim.webhooks.transport import HttpTransport, WebhookTransport

__all__ = [
    "StartupAccount",
    "build_runtime",
    "check_startup_account",
    "ensure_startup_account",
    "ensure_startup_operator",
    "job_handlers",
    "new_worker",
    "prepare_database",
]

ACCOUNT_SID_ENV = "FLEETSIM_ACCOUNT_SID"
AUTH_TOKEN_ENV = "FLEETSIM_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret
OPERATOR_TOKEN_ENV = "FLEETSIM_OPERATOR_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass(frozen=True)
class StartupAccount:
    sid: str
    auth_token: str | None  # known only when just created or given by the environment
    created: bool


def prepare_database(url: str) -> Engine:
    """An engine on `url`, migrated to the newest schema, with the network catalogue."""
    engine = create_database_engine(url)
    upgrade(engine)
    with startup_unit_of_work(engine) as session:
        sync_catalogue(session)
    return engine


def job_handlers(transport: WebhookTransport) -> dict[str, JobHandler]:
    """Every kind of job, and what runs it; webhooks go out through `transport`."""
    return {
        COMPLETE_UPDATE: complete_update,
        DELIVER: webhook_deliverer(transport),
        sms_commands.DELIVER: sms_commands.deliver_sms_command,
        **IP_COMMAND_JOBS,
        **USAGE_JOBS,
        **ESIM_PROFILE_JOBS,
        **SETTINGS_UPDATE_JOBS,
        **BULK_JOBS,
        **DEMO_JOBS,
    }


def build_runtime(
    engine: Engine,
    *,
    clock_mode: ClockMode | None = None,
    clock_start: dt.datetime | None = None,
    seed: int | None = None,
    public_url: str | None = None,
    transport: WebhookTransport | None = None,
    lease: dt.timedelta = dt.timedelta(seconds=30),
) -> Runtime:
    """The runtime of one node: the shared clock, a SID factory, and an inline worker."""
    mode = configure_clock(engine, clock_mode, start=clock_start, system=SystemClock())
    clock = clock_for(engine, mode)
    sids = SidFactory(seed)
    context = JobContext(engine, clock, sids)
    handlers = job_handlers(transport or HttpTransport())
    return Runtime(
        engine=engine,
        clock=clock,
        sids=sids,
        public_url=public_url,
        worker=Worker(context, handlers, lease=lease),
        after_reset=lambda: ensure_startup_account(engine, clock=clock, sids=sids, create=False),
    )


def new_worker(runtime: Runtime, *, concurrency: int = 4, poll_seconds: float = 0.2) -> Worker:
    """Another worker sharing the runtime's clock, SIDs and transport (for a thread)."""
    assert runtime.worker is not None
    return Worker(
        runtime.worker.context,
        runtime.worker.handlers,
        concurrency=concurrency,
        poll_seconds=poll_seconds,
        lease=runtime.worker.lease,
    )


def ensure_startup_operator(engine: Engine, *, clock: Clock) -> str | None:
    """The operator token to announce at start (only when it was just made)."""
    with startup_unit_of_work(engine) as session:
        return ensure_operator(session, token=os.environ.get(OPERATOR_TOKEN_ENV), clock=clock)


def check_startup_account() -> None:
    """400 when the environment names an account (`FLEETSIM_ACCOUNT_SID` and
    `FLEETSIM_AUTH_TOKEN`) whose SID or token has the wrong shape: checked before the
    database is touched."""
    sid = os.environ.get(ACCOUNT_SID_ENV)
    token = os.environ.get(AUTH_TOKEN_ENV)
    if sid and token:
        check_account_credentials(sid, token)


def ensure_startup_account(
    engine: Engine, *, clock: Clock, sids: SidFactory, create: bool = True
) -> StartupAccount | None:
    """The account to announce at start: the one from the environment, or (with `create`)
    a new one on an empty database; None when accounts exist and the environment names
    none."""
    sid = os.environ.get(ACCOUNT_SID_ENV)
    token = os.environ.get(AUTH_TOKEN_ENV)
    with startup_unit_of_work(engine) as session:
        if sid and token:
            account = ensure_account(session, sid=sid, auth_token=token, clock=clock)
            return StartupAccount(account.sid, token, created=False)
        if not create or session.execute(select(func.count()).select_from(Account)).scalar_one():
            return None
        account = create_account(
            session, friendly_name="fleetsim demo account", parent=None, clock=clock, sids=sids
        )
        return StartupAccount(account.sid, auth_token_of(session, account), created=True)
