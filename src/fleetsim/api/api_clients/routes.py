"""KORE's token endpoint and client API (`kore_client_v1.yaml`), as far as an emulator needs.

    POST   /api-services/v1/auth/token     client credentials -> Bearer token (form)
    POST   /v1/clients                     create an API client (JSON; the secret, once)
    GET    /v1/clients                     the account's clients (page_number, page_size)
    GET    /v1/clients/{client_id}         one client
    DELETE /v1/clients/{client_id}         revoke it (fleetsim's addition)
    GET    /v1/ping                        {"status": "ok"}

Deviations: KORE's client API serves several products and admin clients; here every client
is `standard`, acts for the account whose credentials created it (`account_id`, if given,
must be that account's SID) and cannot be created `locked`. Dates of clients are RFC 1123,
as KORE's examples show them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fleetsim.core.errors import (
    InvalidParameter,
    MissingParameter,
    TokenRequestRefused,
    TwilioError,
)
from fleetsim.db.store import Tx
from fleetsim.db.tables import ApiClient
from fleetsim.http.commit import run_unit
from fleetsim.http.endpoint import Reply
from fleetsim.http.json_api import JsonCall, json_endpoint, numbered_page
from fleetsim.http.request import read_form
from fleetsim.http.runtime import Runtime
from fleetsim.resources.api_clients.service import (
    DEFAULT_LIFETIME,
    LIFETIMES,
    IssuedToken,
    create_api_client,
    fetch_api_client,
    issue_token,
    list_api_clients,
    revoke_api_client,
)

__all__ = ["API_CLIENT_ROUTES", "TOKEN_PATH"]

TOKEN_PATH = "/api-services/v1/auth/token"  # noqa: S105 - a path, not a secret
_TOKEN_FIELDS = ("grant_type", "client_id", "client_secret")


async def token(request: Request) -> Response:
    """OAuth 2.0 client credentials grant, in KORE's token spec's bodies."""
    runtime: Runtime = request.app.state.runtime
    try:
        pairs = await read_form(request, runtime.max_body_bytes)
    except TwilioError as exc:  # the body's own problems, told in OAuth's shape
        raise TokenRequestRefused(exc.status, "invalid_request", exc.message) from None
    given: dict[str, str] = {}
    for name, value in pairs:
        if name in given:
            raise TokenRequestRefused(400, "invalid_request", f"{name} given more than once")
        given[name] = value
    for name in _TOKEN_FIELDS:
        if not given.get(name):
            raise TokenRequestRefused(400, "invalid_request", f"Missing required field {name}")
        if "\x00" in given[name] or len(given[name]) > 256:
            raise TokenRequestRefused(400, "invalid_request", f"Malformed field {name}")

    def work(tx: Tx) -> IssuedToken:
        return issue_token(
            tx.session,
            grant_type=given["grant_type"],
            client_id=given["client_id"],
            client_secret=given["client_secret"],
            clock=runtime.clock,
        )

    issued = await run_unit(runtime.engine, work, write=False)
    body = {
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "token_type": "Bearer",
        "scope": "supersim",
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _lifetime_name(seconds: int) -> str:
    return next((name for name, value in LIFETIMES.items() if value == seconds), "")


def render_client(client: ApiClient, account_sid: str) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "account_id": account_sid,
        "name": client.name,
        "client_owner": account_sid,
        "client_type": "standard",
        "locked": False,
        "lifetime": _lifetime_name(client.lifetime_seconds),
        "date_created": client.date_created.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    }


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidParameter(name, "must be a string")
    return value


@json_endpoint(api_keys=False)
def create_client(call: JsonCall) -> Reply:
    """Create an API client; its secret is in this answer only."""
    name = _string(call.body, "name")
    if name is None:
        raise MissingParameter("name")
    account_id = _string(call.body, "account_id")
    if account_id is not None and account_id != call.account.sid:
        raise InvalidParameter("account_id", "must be the SID of the authenticated account")
    if call.body.get("locked") not in (None, False):
        raise InvalidParameter("locked", "fleetsim creates unlocked clients only")
    if "scopes" in call.body and not isinstance(call.body["scopes"], dict):
        raise InvalidParameter("scopes", "must be an object")
    created = create_api_client(
        call.session,
        call.account,
        name=name,
        lifetime=_string(call.body, "lifetime") or DEFAULT_LIFETIME,
        clock=call.clock,
        sids=call.sids,
    )
    body = render_client(created.client, call.account.sid)
    body["date_created"] = created.client.date_created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Reply(201, {"message": "Client created", **body, "client_secret": created.secret})


@json_endpoint(api_keys=False)
def list_clients(call: JsonCall) -> Reply:
    """The account's API clients, oldest first, in KORE's numbered pages."""
    number, size = numbered_page(call, default_size=10)
    client_type = call.query_value("client_type")
    if client_type not in (None, "admin", "standard"):
        raise InvalidParameter("client_type", "must be admin or standard")
    clients, count = list_api_clients(call.session, call.account, number=number, size=size)
    if client_type == "admin":
        clients, count = [], 0

    def link(page: int) -> str:
        return call.urls.absolute(f"/v1/clients?page_size={size}&page_number={page}")

    meta = {
        "count": count,
        "page_number": number,
        "page_size": size,
        "previous_page_url": link(number - 1) if number > 1 else None,
        "next_page_url": link(number + 1) if number * size < count else None,
    }
    return Reply(
        200, {"meta": meta, "clients": [render_client(c, call.account.sid) for c in clients]}
    )


@json_endpoint(api_keys=False)
def get_client(call: JsonCall) -> Reply:
    client = fetch_api_client(call.session, call.account, call.path["client_id"])
    return Reply(200, {"client": render_client(client, call.account.sid)})


@json_endpoint(api_keys=False)
def delete_client(call: JsonCall) -> Reply:
    """Revoke the client: its tokens answer 401 from the next request on."""
    revoke_api_client(call.session, call.account, call.path["client_id"])
    return Reply(204, None)


async def ping(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


API_CLIENT_ROUTES = [
    Route(TOKEN_PATH, token, methods=["POST"], name="kore:token"),
    Route("/v1/clients", create_client, methods=["POST"], name="kore:create-client"),
    Route("/v1/clients", list_clients, methods=["GET"], name="kore:list-clients"),
    Route("/v1/clients/{client_id}", get_client, methods=["GET"], name="kore:get-client"),
    Route("/v1/clients/{client_id}", delete_client, methods=["DELETE"], name="kore:delete-client"),
    Route("/v1/ping", ping, methods=["GET"], name="kore:ping"),
]
