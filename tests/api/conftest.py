"""API tests: the app in-process, driven over HTTP with Starlette's TestClient."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from fleetsim.app.asgi import create_app
from fleetsim.app.setup import job_handlers
from fleetsim.core.clock import FrozenClock
from fleetsim.core.dialect import Dialect
from fleetsim.core.sids import SidFactory
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from fleetsim.engine.worker import JobContext, Worker
from fleetsim.http.runtime import Runtime
from fleetsim.inventory.service import Card, generate_cards, import_cards
from fleetsim.resources.accounts.keys import create_api_key
from fleetsim.resources.accounts.operator import OPERATOR, ensure_operator
from fleetsim.resources.accounts.service import auth_token_of, create_account
from fleetsim.webhooks.transport import HttpTransport, WebhookTransport

if TYPE_CHECKING:
    from tests.api.lifecycle_fixtures import Ops

BASE = "http://fleetsim.test"
OPERATOR_TOKEN = "operator0token0for0tests"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    account_sid: str


@dataclass
class Api:
    """One in-process server and the account a test acts for."""

    client: TestClient
    engine: Engine
    clock: FrozenClock
    sids: SidFactory
    creds: Credentials
    _rng: random.Random

    def request(
        self,
        method: str,
        path: str,
        *,
        data: Any = None,
        params: Any = None,
        as_: Credentials | None = None,
        auth: Any = "default",
        **kwargs: Any,
    ) -> httpx.Response:
        creds = as_ or self.creds
        basic = (creds.username, creds.password) if auth == "default" else auth
        return self.client.request(method, path, data=data, params=params, auth=basic, **kwargs)

    def control(
        self, method: str, path: str, data: Any = None, *, auth: Any = None, **kwargs: Any
    ) -> httpx.Response:
        """A control-API request, with the operator credential unless `auth` says otherwise."""
        return self.request(
            method, path, data=data, auth=auth or (OPERATOR, OPERATOR_TOKEN), **kwargs
        )

    def use_transport(self, transport: WebhookTransport) -> Worker:
        """Give the app's inline worker another webhook transport (e.g. one that records)."""
        runtime: Runtime = self.client.app.state.runtime  # type: ignore[attr-defined]
        runtime.worker = Worker(
            JobContext(self.engine, self.clock, self.sids), job_handlers(transport)
        )
        return runtime.worker

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, data=data, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def new_account(self, parent: Credentials | None = None) -> Credentials:
        with unit_of_work(self.engine, write=True) as session:
            parent_row = None
            if parent is not None:
                parent_row = session.query(Account).filter_by(sid=parent.account_sid).one()
            account = create_account(
                session, friendly_name=None, parent=parent_row, clock=self.clock, sids=self.sids
            )
            return Credentials(account.sid, auth_token_of(session, account), account.sid)

    def new_api_key(self, creds: Credentials | None = None) -> Credentials:
        owner = creds or self.creds
        with unit_of_work(self.engine, write=True) as session:
            account = session.query(Account).filter_by(sid=owner.account_sid).one()
            created = create_api_key(
                session, account, friendly_name="test", clock=self.clock, sids=self.sids
            )
            return Credentials(created.key.sid, created.secret, owner.account_sid)

    def cards(self, count: int) -> list[Card]:
        """Put `count` new physical cards in the warehouse and return them."""
        cards = list(generate_cards(count, self._rng))
        with unit_of_work(self.engine, write=True) as session:
            import_cards(session, cards, clock=self.clock)
        return cards

    def network_sids(self, count: int, iso_country: str = "US") -> list[str]:
        body = self.get("/v1/Networks", params={"IsoCountry": iso_country}).json()
        sids = [n["sid"] for n in body["networks"]][:count]
        assert len(sids) == count
        return sids


@pytest.fixture
def api(engine: Engine, clock: FrozenClock, sids: SidFactory) -> Iterator[Api]:
    """The app in-process on the frozen clock, with an inline worker that delivers webhooks
    over real HTTP (run by the control API), and the operator credential."""
    transport = HttpTransport(timeout_seconds=5.0)
    worker = Worker(JobContext(engine, clock, sids), job_handlers(transport))
    app = create_app(Runtime(engine=engine, clock=clock, sids=sids, worker=worker))
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as client:
        with unit_of_work(engine, write=True) as session:
            ensure_operator(session, token=OPERATOR_TOKEN, clock=clock)
            account = create_account(
                session, friendly_name="test", parent=None, clock=clock, sids=sids
            )
            creds = Credentials(account.sid, auth_token_of(session, account), account.sid)
        yield Api(client, engine, clock, sids, creds, random.Random(99))
    app.state.runtime.worker.stop()
    transport.close()


def assert_error(
    response: httpx.Response,
    status: int,
    code: int,
    *words: str,
    dialect: Dialect = Dialect.TWILIO,
) -> dict[str, Any]:
    """The response is Twilio's error body with this status and code, naming `words`
    (`more_info` on KORE's documentation host in KORE's dialect)."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"code", "message", "more_info", "status"}, body
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["more_info"] == dialect.more_info.format(code=code)
    for word in words:
        assert word in body["message"], body
    return body


def assert_management_error(
    response: httpx.Response, status: int, code: int, *words: str
) -> dict[str, Any]:
    """The response is the error body of KORE's management APIs (`ApiErrorResponse`) with
    this status and code, naming `words`."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "info"}, body
    assert (body["status"], body["code"]) == (status, code), body
    assert body["info"] == Dialect.KORE.more_info.format(code=code)
    for word in words:
        assert word in body["message"], body
    return body


@pytest.fixture
def ops(api: Api) -> Ops:
    """The API with an inline worker that records callbacks instead of sending them."""
    from tests.api.lifecycle_fixtures import Ops, RecordingTransport

    transport = RecordingTransport()
    api.use_transport(transport)
    return Ops(api, transport)
