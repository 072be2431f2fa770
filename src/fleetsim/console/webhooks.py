"""Webhook deliveries of the account: every attempt, its status code and latency, the
payload; re-deliver.

    GET  /console/webhooks                     deliveries, newest first (state filter)
    GET  /console/webhooks/{Id}                one delivery, its payload and attempts
    POST /console/webhooks/{Id}/redeliver      deliver again now
"""

from __future__ import annotations

import json

from starlette.routing import Route

from fleetsim.console.base import Html, Redirect, Visit, action, page
from fleetsim.core.errors import InvalidParameter, NotFound
from fleetsim.db.tables import Webhook
from fleetsim.webhooks.service import (
    find_account_webhook,
    list_attempts,
    list_webhooks,
    redeliver_webhook,
)

__all__ = ["WEBHOOK_ROUTES"]

STATES = ("pending", "delivered", "failed")


@page
def deliveries(visit: Visit) -> Html:
    state = visit.arg("state")
    if state is not None and state not in STATES:
        raise InvalidParameter("state", "must be pending, delivered or failed")
    found = list_webhooks(
        visit.session,
        state=state,
        account_id=visit.account.id,
        page=visit.page_request(),
        newest_first=True,
    )
    attempts = list_attempts(visit.session, [w.id for w in found.items])
    return visit.html(
        "webhooks.html",
        webhooks=found,
        attempts=attempts,
        state=state or "",
        states=STATES,
        base="/console/webhooks" + (f"?state={state}" if state else ""),
    )


def _webhook(visit: Visit) -> Webhook:
    raw = visit.path["id"]
    found = None
    if raw.isascii() and raw.isdigit() and len(raw) < 12:
        found = find_account_webhook(visit.session, visit.account.id, int(raw))
    if found is None:
        raise NotFound(f"/console/webhooks/{raw}")
    return found


@page
def delivery(visit: Visit) -> Html:
    webhook = _webhook(visit)
    if webhook.json_body is not None:
        payload = json.dumps(json.loads(webhook.json_body), indent=2)
    else:
        payload = "\n".join(f"{k}={v}" for k, v in json.loads(webhook.params))
    return visit.html(
        "webhook.html",
        webhook=webhook,
        payload=payload,
        attempts=list_attempts(visit.session, [webhook.id])[webhook.id],
    )


@action
def redeliver(visit: Visit) -> Redirect:
    webhook = redeliver_webhook(visit.session, _webhook(visit).id, now=visit.clock.now())
    return Redirect(f"/console/webhooks/{webhook.id}")


WEBHOOK_ROUTES = [
    Route("/console/webhooks", deliveries, methods=["GET"], name="console_webhooks"),
    Route("/console/webhooks/{id}", delivery, methods=["GET"], name="console_webhook"),
    Route(
        "/console/webhooks/{id}/redeliver",
        redeliver,
        methods=["POST"],
        name="console_redeliver_webhook",
    ),
]
