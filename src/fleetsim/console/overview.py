"""The overview: Sims by status, data used this month, recent commands, failed webhooks."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.billing.periods import add_months
from fleetsim.console.base import Html, Visit, page
from fleetsim.core.paging import PageRequest
from fleetsim.resources.ip_commands.service import list_ip_commands
from fleetsim.resources.sims.search import count_sims_by_status
from fleetsim.resources.sms_commands.service import list_sms_commands
from fleetsim.resources.usage_records.service import UsageFilters, list_usage_records
from fleetsim.webhooks.service import list_webhooks

__all__ = ["OVERVIEW_ROUTES"]

RECENT = PageRequest(page_size=5)


@page
def overview(visit: Visit) -> Html:
    session, account, now = visit.session, visit.account, visit.clock.now()
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    usage = list_usage_records(
        session,
        account,
        filters=UsageFilters(granularity="all", start_time=month, end_time=add_months(month, 1)),
        page=PageRequest(page_size=1),
        now=now,
    ).items[0]
    sms = list_sms_commands(session, account, sim=None, status=None, direction=None, page=RECENT)
    ip = list_ip_commands(
        session, account, sim=None, sim_iccid=None, status=None, direction=None, page=RECENT
    )
    commands = sorted(
        [("SMS", c.sid, c.sim.sid, c.status, c.direction, c.date_created) for c in sms.items]
        + [("IP", c.sid, c.sim.sid, c.status, c.direction, c.date_created) for c in ip.items],
        key=lambda row: row[5],
        reverse=True,
    )[:8]
    failures = list_webhooks(
        session, state="failed", account_id=account.id, page=RECENT, newest_first=True
    )
    return visit.html(
        "overview.html",
        counts=count_sims_by_status(session, account),
        month=month,
        usage=usage,
        commands=commands,
        failures=failures.items,
    )


OVERVIEW_ROUTES = [
    Route("/console", overview, methods=["GET"], name="console_overview"),
    Route("/console/", overview, methods=["GET"], name="console_overview_slash"),
]
