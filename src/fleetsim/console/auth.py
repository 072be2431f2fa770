"""Signing in and out, and (for the operator) switching accounts.

GET  /console/sign-in      the form: Account SID and Auth Token, or `operator` and its token
POST /console/sign-in      sets the session cookie
POST /console/sign-out     clears it
POST /console/account      the operator acts for another account
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleetsim.console.base import (
    REAL_TIME,
    SECURITY_HEADERS,
    Redirect,
    Visit,
    action,
    render,
    set_session_cookie,
)
from fleetsim.console.session import (
    SESSION_SECONDS,
    SignedIn,
    ensure_secret,
    mark,
    sign_cookie,
)
from fleetsim.core.errors import AuthenticationFailed, NotFound
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, OperatorCredential
from fleetsim.db.uow import unit_of_work
from fleetsim.http.request import read_form
from fleetsim.http.runtime import Runtime
from fleetsim.resources.accounts.operator import OPERATOR, authenticate_operator
from fleetsim.resources.accounts.service import active_accounts, authenticate, fetch_account

__all__ = ["AUTH_ROUTES"]


def _safe_next(target: str | None) -> str:
    # Only paths of the console: never an open redirect to another site.
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console"


async def sign_in_form(request: Request) -> Response:
    target = _safe_next(request.query_params.get("next"))
    return render("sign_in.html", {"next": target, "error": None, "visit": None})


async def sign_in(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    form = dict(await read_form(request, runtime.max_body_bytes))
    username = form.get("username", "").strip()
    password = form.get("password", "").strip()
    target = _safe_next(form.get("next"))

    def work() -> str:
        with unit_of_work(runtime.engine, write=True) as session:
            secret = ensure_secret(session, now=runtime.clock.now())
            if username == OPERATOR:
                authenticate_operator(session, username, password)
                accounts = active_accounts(session, limit=1)
                if not accounts:
                    raise AuthenticationFailed()
                credential = session.execute(
                    select(OperatorCredential.secret_hash).where(
                        OperatorCredential.username == OPERATOR
                    )
                ).scalar_one()
                account: Account = accounts[0]
            else:
                account = authenticate(Tx.of(session), username, password)
                credential = account.sealed_auth_token
            signed_in = SignedIn(
                account.sid,
                username == OPERATOR,
                mark(secret, credential),
                int(REAL_TIME.now().timestamp()) + SESSION_SECONDS,
            )
            return sign_cookie(secret, signed_in)

    try:
        cookie = await run_in_threadpool(work)
    except AuthenticationFailed:
        error = "That Account SID and Auth Token (or operator token) did not sign you in."
        return render("sign_in.html", {"next": target, "error": error, "visit": None}, 401)
    response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    set_session_cookie(request, response, cookie)
    return response


@action
def sign_out(visit: Visit) -> Redirect:
    return Redirect("/console/sign-in", cookie="")


@action
def switch_account(visit: Visit) -> Redirect:
    """The operator acts for another account from now on."""
    if not visit.signed_in.operator:
        raise NotFound("/console/account")
    account = fetch_account(visit.session, visit.arg("account") or "")
    if account.status != "active":
        raise NotFound(f"/Accounts/{account.sid}")
    signed_in = SignedIn(
        account.sid, True, visit.signed_in.credential_mark, visit.signed_in.expires
    )
    return Redirect("/console", cookie=sign_cookie(visit.secret, signed_in))


AUTH_ROUTES = [
    Route("/console/sign-in", sign_in_form, methods=["GET"], name="console_sign_in_form"),
    Route("/console/sign-in", sign_in, methods=["POST"], name="console_sign_in"),
    Route("/console/sign-out", sign_out, methods=["POST"], name="console_sign_out"),
    Route("/console/account", switch_account, methods=["POST"], name="console_account"),
]
