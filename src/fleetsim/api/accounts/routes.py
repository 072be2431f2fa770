"""The Accounts API subset of Twilio's 2010 API, as the official SDKs call it:

    POST /2010-04-01/Accounts.json                        create a subaccount
    GET  /2010-04-01/Accounts.json                        the account and its subaccounts
    GET  /2010-04-01/Accounts/{Sid}.json                  fetch
    POST /2010-04-01/Accounts/{Sid}.json                  FriendlyName, Status
    POST /2010-04-01/Accounts/{AccountSid}/Keys.json      a new API key (its secret, once)
    GET  /2010-04-01/Accounts/{AccountSid}/Keys.json
    GET|POST|DELETE /2010-04-01/Accounts/{AccountSid}/Keys/{Sid}.json

Only auth tokens reach these operations (API keys answer 403, as Twilio's standard keys
do); a parent reaches its subaccounts, a subaccount only itself.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.routing import Route

from fleetsim.api.accounts.wire import (
    list_envelope,
    render_account,
    render_key,
    render_new_key,
)
from fleetsim.api.devices.routes import paging_params
from fleetsim.contract import Operation, Param
from fleetsim.db.tables import Account
from fleetsim.http.endpoint import Call, Reply, endpoint
from fleetsim.resources.accounts import keys, service
from fleetsim.resources.accounts.service import ACCOUNTS_PATH

__all__ = ["ACCOUNT_ROUTES"]

_FRIENDLY_NAME = Param("FriendlyName", "form", False, "string")
_STATUS = Param("Status", "form", False, "string", enum=service.STATUSES)
_SID = Param("Sid", "path", True, "string")
_ACCOUNT_SID = Param("AccountSid", "path", True, "string")
_FILTERS = ("FriendlyName", "Status")


def _operation(
    name: str, method: str, path: str, *params: Param, list_key: str | None = None
) -> Operation:
    all_params = {p.name: p for p in params}
    if list_key:
        all_params.update(paging_params())
    status = 201 if method == "POST" and name.startswith("Create") else 200
    return Operation(name, method, path, all_params, (status,), None, list_key)


ACCOUNTS = f"{ACCOUNTS_PATH}.json"
ACCOUNT = f"{ACCOUNTS_PATH}/{{Sid}}.json"
KEYS = f"{ACCOUNTS_PATH}/{{AccountSid}}/Keys.json"
KEY = f"{ACCOUNTS_PATH}/{{AccountSid}}/Keys/{{Sid}}.json"

CREATE_ACCOUNT = _operation("CreateAccount", "POST", ACCOUNTS, _FRIENDLY_NAME)
LIST_ACCOUNTS = _operation(
    "ListAccount",
    "GET",
    ACCOUNTS,
    Param("FriendlyName", "query", False, "string"),
    Param("Status", "query", False, "string", enum=service.STATUSES),
    list_key="accounts",
)
FETCH_ACCOUNT = _operation("FetchAccount", "GET", ACCOUNT, _SID)
UPDATE_ACCOUNT = _operation("UpdateAccount", "POST", ACCOUNT, _SID, _FRIENDLY_NAME, _STATUS)
CREATE_KEY = _operation("CreateNewKey", "POST", KEYS, _ACCOUNT_SID, _FRIENDLY_NAME)
LIST_KEYS = _operation("ListKey", "GET", KEYS, _ACCOUNT_SID, list_key="keys")
FETCH_KEY = _operation("FetchKey", "GET", KEY, _ACCOUNT_SID, _SID)
UPDATE_KEY = _operation("UpdateKey", "POST", KEY, _ACCOUNT_SID, _SID, _FRIENDLY_NAME)
DELETE_KEY = _operation("DeleteKey", "DELETE", KEY, _ACCOUNT_SID, _SID)


def _render(session: Session, account: Account) -> dict[str, object]:
    owner = account if account.parent_id is None else session.get(Account, account.parent_id)
    assert owner is not None
    return render_account(
        account, owner_sid=owner.sid, auth_token=service.auth_token_of(session, account)
    )


@endpoint(CREATE_ACCOUNT, api_keys=False)
def create_account(call: Call) -> Reply:
    account = service.create_subaccount(
        call.session,
        call.account,
        friendly_name=call.params.get("FriendlyName"),
        clock=call.clock,
        sids=call.sids,
    )
    return call.created(_render(call.session, account))


@endpoint(LIST_ACCOUNTS, api_keys=False)
def list_accounts(call: Call) -> Reply:
    page = service.list_accounts(
        call.session,
        call.account,
        friendly_name=call.params.get("FriendlyName"),
        status=call.params.get("Status"),
        page=call.page_request,
    )
    items = [_render(call.session, account) for account in page.items]
    filters = [(k, v) for k, v in call.query if k in _FILTERS]
    return call.ok(
        list_envelope(
            ACCOUNTS, "accounts", items, filters=filters, request=call.page_request, page=page
        )
    )


@endpoint(FETCH_ACCOUNT, api_keys=False)
def fetch_account(call: Call) -> Reply:
    account = service.reachable_account(call.session, call.account, call.path["Sid"])
    return call.ok(_render(call.session, account))


@endpoint(UPDATE_ACCOUNT, api_keys=False)
def update_account(call: Call) -> Reply:
    account = service.update_account(
        call.session,
        call.account,
        call.path["Sid"],
        friendly_name=call.params.get("FriendlyName"),
        status=call.params.get("Status"),
        now=call.clock.now(),
        sids=call.sids,
    )
    return call.ok(_render(call.session, account))


def _owner(call: Call) -> Account:
    """The account named in the path, when the caller reaches it; 404 naming the path."""
    path = call.operation.path.format(**call.path)
    return service.reachable_account(call.session, call.account, call.path["AccountSid"], path=path)


@endpoint(CREATE_KEY, api_keys=False)
def create_key(call: Call) -> Reply:
    created = keys.create_api_key(
        call.session,
        _owner(call),
        friendly_name=call.params.get("FriendlyName"),
        clock=call.clock,
        sids=call.sids,
    )
    return call.created(render_new_key(created))


@endpoint(LIST_KEYS, api_keys=False)
def list_keys(call: Call) -> Reply:
    owner = _owner(call)
    page = keys.list_api_keys(call.session, owner, page=call.page_request)
    path = f"{ACCOUNTS_PATH}/{owner.sid}/Keys.json"
    items = [render_key(key) for key in page.items]
    return call.ok(
        list_envelope(path, "keys", items, filters=[], request=call.page_request, page=page)
    )


@endpoint(FETCH_KEY, api_keys=False)
def fetch_key(call: Call) -> Reply:
    return call.ok(render_key(keys.fetch_api_key(call.session, _owner(call), call.path["Sid"])))


@endpoint(UPDATE_KEY, api_keys=False)
def update_key(call: Call) -> Reply:
    key = keys.update_api_key(
        call.session,
        _owner(call),
        call.path["Sid"],
        friendly_name=call.params.get("FriendlyName"),
        now=call.clock.now(),
    )
    return call.ok(render_key(key))


@endpoint(DELETE_KEY, api_keys=False)
def delete_key(call: Call) -> Reply:
    keys.delete_api_key(call.session, _owner(call), call.path["Sid"])
    return call.no_content()


ACCOUNT_ROUTES = [
    Route(ACCOUNTS, create_account, methods=["POST"], name=CREATE_ACCOUNT.id),
    Route(ACCOUNTS, list_accounts, methods=["GET"], name=LIST_ACCOUNTS.id),
    Route(ACCOUNT, fetch_account, methods=["GET"], name=FETCH_ACCOUNT.id),
    Route(ACCOUNT, update_account, methods=["POST"], name=UPDATE_ACCOUNT.id),
    Route(KEYS, create_key, methods=["POST"], name=CREATE_KEY.id),
    Route(KEYS, list_keys, methods=["GET"], name=LIST_KEYS.id),
    Route(KEY, fetch_key, methods=["GET"], name=FETCH_KEY.id),
    Route(KEY, update_key, methods=["POST"], name=UPDATE_KEY.id),
    Route(KEY, delete_key, methods=["DELETE"], name=DELETE_KEY.id),
]
