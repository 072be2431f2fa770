"""The shape of every console page: sign-in check, one unit of work, a template.

A page handler is a plain function of a `Visit` that returns `Html` or `Redirect`;
`page` (GET, read-only) and `action` (POST, CSRF-checked, one write) turn it into a
Starlette route. Errors from the services are Twilio errors: they are shown in plain
words on an error page with the status they would have in the API (404 for another
account's objects, as there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fleetsim.console.session import (
    COOKIE,
    SESSION_SECONDS,
    SignedIn,
    csrf_token,
    load_secret,
    mark,
    read_cookie,
    same_csrf,
)
from fleetsim.core.clock import Clock, SystemClock
from fleetsim.core.dates import iso
from fleetsim.core.errors import InvalidParameter, TwilioError
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import SidFactory
from fleetsim.db.tables import Account, OperatorCredential
from fleetsim.db.uow import unit_of_work
from fleetsim.http.params import parse_pairs
from fleetsim.http.request import read_form
from fleetsim.http.runtime import Runtime

__all__ = [
    "REAL_TIME",
    "SECURITY_HEADERS",
    "TEMPLATES",
    "Html",
    "Redirect",
    "Visit",
    "action",
    "page",
    "render",
    "set_session_cookie",
    "visitor",
]

# Sessions expire by real time: a manual clock (tests, demos) must not end or extend them.
REAL_TIME = SystemClock()

HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
SECURITY_HEADERS = {
    # Inline SVG charts need no inline style or script: presentation attributes only.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _bytes(value: int | None) -> str:
    """Bytes for people: 1.5 MB (decimal units, as Twilio's data limits)."""
    if value is None:
        return "–"
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{value} B"


def _when(value: dt.datetime | None) -> str:
    return iso(value) if value is not None else "–"


TEMPLATES.filters["data"] = _bytes
TEMPLATES.filters["when"] = _when
TEMPLATES.filters["number"] = lambda value: f"{value:,}"


@dataclass(frozen=True)
class Html:
    template: str
    context: Mapping[str, Any]
    status: int = 200


@dataclass(frozen=True)
class Redirect:
    url: str
    # A new session cookie to set ("" clears it).
    cookie: str | None = None


@dataclass
class Visit:
    """Everything a console handler may use."""

    request: Request
    session: Session
    account: Account
    signed_in: SignedIn
    csrf: str
    secret: bytes
    path: dict[str, str]
    query: Sequence[tuple[str, str]]
    form: Sequence[tuple[str, str]]
    clock: Clock
    sids: SidFactory
    runtime: Runtime

    def arg(self, name: str) -> str | None:
        """A query or form value (the last given), stripped; None when absent or blank."""
        values = [v for k, v in (*self.query, *self.form) if k == name]
        value = values[-1].strip() if values else ""
        return value or None

    def args(self, name: str) -> list[str]:
        return [v for k, v in (*self.query, *self.form) if k == name]

    def whole(self, name: str, label: str | None = None) -> int | None:
        """A whole number from the form; None when blank, 20001 when not a number."""
        value = self.arg(name)
        if value is None:
            return None
        if not (value.isascii() and value.isdigit() and len(value) <= 15):
            raise InvalidParameter(label or name, "must be a whole number")
        return int(value)

    def flag(self, name: str) -> bool:
        """A checkbox: on when given."""
        return self.arg(name) is not None

    def page_request(self, size: int = 50) -> PageRequest:
        return PageRequest(page_size=size, token=self.arg("page"))

    def html(self, template: str, /, **context: Any) -> Html:
        return Html(template, context)


Handler = Callable[[Visit], Html | Redirect]
Route = Callable[[Request], Awaitable[Response]]


def render(template: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    body = TEMPLATES.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def visitor(session: Session, secret: bytes, cookie: str | None) -> tuple[SignedIn, Account] | None:
    """Who this cookie signs in, if the credential it was made with still holds."""
    signed_in = read_cookie(secret, cookie, now_seconds=REAL_TIME.now().timestamp())
    if signed_in is None:
        return None
    account = session.execute(
        select(Account).where(Account.sid == signed_in.account_sid, Account.status == "active")
    ).scalar_one_or_none()
    if account is None:
        return None
    if signed_in.operator:
        stored = session.execute(select(OperatorCredential.secret_hash)).scalars().first()
        credential = stored or ""
    else:
        credential = account.sealed_auth_token  # changes whenever the token does
    if not credential or mark(secret, credential) != signed_in.credential_mark:
        return None
    return signed_in, account


class _SignIn(Exception):
    """Not signed in: go to the sign-in page."""


def _route(handler: Handler, *, write: bool) -> Route:
    async def route(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        form = await read_form(request, runtime.max_body_bytes) if write else []
        cookie = request.cookies.get(COOKIE)
        query = parse_pairs(request.scope.get("query_string", b""))

        def work() -> Response:
            with unit_of_work(runtime.engine, write=write) as session:
                secret = load_secret(session)
                found = visitor(session, secret, cookie) if secret and cookie else None
                if found is None or secret is None or cookie is None:
                    raise _SignIn()
                if write and not same_csrf(secret, cookie, dict(form).get("csrf")):
                    raise TwilioError(
                        "This form has expired: reload the page and try again",
                        status=403,
                        code=20403,
                    )
                visit = Visit(
                    request=request,
                    session=session,
                    account=found[1],
                    signed_in=found[0],
                    csrf=csrf_token(secret, cookie),
                    secret=secret,
                    path=dict(request.path_params),
                    query=query,
                    form=form,
                    clock=runtime.clock,
                    sids=runtime.sids,
                    runtime=runtime,
                )
                result = handler(visit)
                if isinstance(result, Redirect):
                    response = RedirectResponse(
                        result.url, status_code=303, headers=SECURITY_HEADERS
                    )
                    if result.cookie is not None:
                        set_session_cookie(request, response, result.cookie)
                    return response
                context = {"visit": visit, "now": runtime.clock.now(), **result.context}
                return render(result.template, context, result.status)

        try:
            return await run_in_threadpool(work)
        except _SignIn:
            target = request.url.path if request.method == "GET" else "/console"
            return RedirectResponse(f"/console/sign-in?next={quote(target)}", status_code=303)
        except TwilioError as error:
            return error_page(request, error)

    route.__name__ = handler.__name__
    route.__doc__ = handler.__doc__
    return route


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    """Set (or, given "", clear) the session cookie: HTTP only, this site only."""
    if not cookie:
        response.delete_cookie(COOKIE, path="/console")
        return
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def error_page(request: Request, error: TwilioError) -> Response:
    back = request.headers.get("referer", "")
    if not back.startswith(str(request.base_url)):
        back = "/console"
    return render("error.html", {"error": error, "back": back, "visit": None}, error.status)


def page(handler: Handler) -> Route:
    """A GET page: read-only unit of work."""
    return _route(handler, write=False)


def action(handler: Handler) -> Route:
    """A POST form: CSRF-checked, one write unit of work, then (usually) a redirect."""
    return _route(handler, write=True)
