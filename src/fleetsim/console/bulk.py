"""Bulk actions on a selection of Sims, run as jobs, with their progress.

POST /console/bulk                 start one (action, sim=… for each selected Sim, fleet)
GET  /console/bulk                 the account's bulk operations
GET  /console/bulk/{Id}            one operation and its progress
GET  /console/bulk/{Id}/progress   the progress alone (polled by the page)
"""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.console.base import Html, Redirect, Visit, action, page
from fleetsim.core.errors import NotFound
from fleetsim.resources.bulk_operations.service import (
    create_bulk_operation,
    fetch_bulk_operation,
    list_bulk_operations,
)

__all__ = ["BULK_ROUTES"]


@action
def start(visit: Visit) -> Redirect:
    operation = create_bulk_operation(
        visit.session,
        visit.account,
        action=visit.arg("action") or "",
        sims=visit.args("sim"),
        fleet=visit.arg("fleet"),
        now=visit.clock.now(),
    )
    return Redirect(f"/console/bulk/{operation.id}")


@page
def operations(visit: Visit) -> Html:
    found = list_bulk_operations(visit.session, visit.account, page=visit.page_request())
    return visit.html("bulk_list.html", operations=found)


def _operation_id(visit: Visit) -> int:
    raw = visit.path["id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        raise NotFound(f"/console/bulk/{raw}")
    return int(raw)


@page
def operation(visit: Visit) -> Html:
    found = fetch_bulk_operation(visit.session, visit.account, _operation_id(visit))
    return visit.html("bulk.html", operation=found)


@page
def progress(visit: Visit) -> Html:
    found = fetch_bulk_operation(visit.session, visit.account, _operation_id(visit))
    return visit.html("bulk_progress.html", operation=found)


BULK_ROUTES = [
    Route("/console/bulk", start, methods=["POST"], name="console_bulk_start"),
    Route("/console/bulk", operations, methods=["GET"], name="console_bulk_list"),
    Route("/console/bulk/{id}", operation, methods=["GET"], name="console_bulk"),
    Route("/console/bulk/{id}/progress", progress, methods=["GET"], name="console_bulk_progress"),
]
