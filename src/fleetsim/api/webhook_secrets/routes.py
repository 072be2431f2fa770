"""KORE's webhook secrets API (`kore-webhook-v1.yaml`): create, list, fetch, patch.

POST  /v1/secrets          {"Name"} -> the secret, its value shown only here (201)
GET   /v1/secrets          status, page_number, page_size
GET   /v1/secrets/{id}     one secret (fleetsim's addition: KORE's spec has no fetch)
PATCH /v1/secrets/{id}     {"Name", "Status"}: rename, rotate (Status=active)
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fleetsim.core.dates import iso
from fleetsim.core.errors import InvalidParameter, MissingParameter
from fleetsim.db.tables import WebhookSecret
from fleetsim.http.endpoint import Reply
from fleetsim.http.json_api import JsonCall, json_endpoint, numbered_page
from fleetsim.resources.webhook_secrets.service import (
    create_webhook_secret,
    fetch_webhook_secret,
    list_webhook_secrets,
    update_webhook_secret,
)

__all__ = ["WEBHOOK_SECRET_ROUTES"]


def render_secret(secret: WebhookSecret) -> dict[str, Any]:
    return {
        "id": secret.sid,
        "name": secret.name,
        "status": secret.status,
        "last_modified": iso(secret.last_modified),
    }


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidParameter(name, "must be a string")
    return value


@json_endpoint()
def create_secret(call: JsonCall) -> Reply:
    """A new secret, which signs every callback from now on."""
    name = _string(call.body, "Name")
    if name is None:
        raise MissingParameter("Name")
    created = create_webhook_secret(
        call.session, call.account, name=name, clock=call.clock, sids=call.sids
    )
    return Reply(201, {**render_secret(created.secret), "secret": created.value})


@json_endpoint()
def list_secrets(call: JsonCall) -> Reply:
    number, size = numbered_page(call, default_size=10)
    secrets, count = list_webhook_secrets(
        call.session, call.account, status=call.query_value("status"), number=number, size=size
    )

    def link(page: int) -> str:
        return call.urls.absolute(f"/v1/secrets?page_size={size}&page_number={page}")

    meta = {
        "count": count,
        "page_size": size,
        "page_number": number,
        "previous_page_url": link(number - 1) if number > 1 else None,
        "next_page_url": link(number + 1) if number * size < count else None,
    }
    return Reply(200, {"data": [render_secret(s) for s in secrets], "meta_data": meta})


@json_endpoint()
def fetch_secret(call: JsonCall) -> Reply:
    return Reply(
        200, render_secret(fetch_webhook_secret(call.session, call.account, call.path["id"]))
    )


@json_endpoint()
def update_secret(call: JsonCall) -> Reply:
    """Rename the secret, or make it the active one (rotation) or pending."""
    secret = update_webhook_secret(
        call.session,
        call.account,
        call.path["id"],
        name=_string(call.body, "Name"),
        status=_string(call.body, "Status"),
        clock=call.clock,
    )
    return Reply(200, render_secret(secret))


WEBHOOK_SECRET_ROUTES = [
    Route("/v1/secrets", create_secret, methods=["POST"], name="kore:create-secret"),
    Route("/v1/secrets", list_secrets, methods=["GET"], name="kore:list-secrets"),
    Route("/v1/secrets/{id}", fetch_secret, methods=["GET"], name="kore:fetch-secret"),
    Route("/v1/secrets/{id}", update_secret, methods=["PATCH"], name="kore:update-secret"),
]
