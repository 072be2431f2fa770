"""UsageRecords over HTTP."""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.api.usage_records.wire import parse_filters, render_usage_record
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.usage_records import service

__all__ = ["ROUTES"]


@endpoint("ListUsageRecord")
def list_usage_records(call: Call) -> Reply:
    page = service.list_usage_records(
        call.session,
        call.account,
        filters=parse_filters(call.params),
        page=call.page_request,
        now=call.clock.now(),
    )
    account_sid = call.account.sid
    return call.page("/v1/UsageRecords", page, lambda r: render_usage_record(r, account_sid))


ROUTES = [
    Route("/v1/UsageRecords", list_usage_records, methods=["GET"], name="ListUsageRecord"),
]
