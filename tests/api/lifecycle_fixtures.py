"""Helpers for lifecycle and control-API tests: an inline worker that records callbacks,
and small calls to the control API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from sqlalchemy import func, select

from fleetsim.core.dates import iso
from fleetsim.db.tables import Job, Sim, SimStatusEvent
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.sims.lifecycle import COMPLETE_UPDATE
from fleetsim.webhooks.transport import HttpResult
from tests.api.conftest import Api, assert_error
from tests.api.sim_helpers import fetch, new_fleet, register
from tests.conftest import START


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass
class RecordingTransport:
    """Records callbacks instead of sending them; every one answers 204."""

    sent: list[Sent] = field(default_factory=list)

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> HttpResult:
        self.sent.append(Sent(method, url, headers, body))
        return HttpResult(status_code=204, latency_ms=1)


@dataclass
class Ops:
    """The operator's side of the app the `api` fixture serves."""

    api: Api
    transport: RecordingTransport

    def control(
        self, method: str, path: str, data: dict[str, str] | None = None, *, auth: Any = None
    ) -> httpx.Response:
        return self.api.control(method, path, data, auth=auth)

    def ok(self, method: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.control(method, path, data)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.ok("POST", "/control/clock/advance", {"Seconds": str(seconds)})

    def policy(self, policy: str, delay: float | None = None) -> dict[str, Any]:
        data = {"Policy": policy} | ({} if delay is None else {"Delay": str(delay)})
        return self.ok("POST", "/control/policies/sim", data)

    def jobs(self) -> dict[str, int]:
        """Status-change jobs by state. (A ready or active Sim also has a pending billing
        rollover job, due at its period's end; that is not a lifecycle step.)"""
        with unit_of_work(self.api.engine, write=False) as session:
            rows = session.execute(
                select(Job.state, func.count())
                .where(Job.kind == COMPLETE_UPDATE)
                .group_by(Job.state)
            ).all()
        return dict(rows)


# --- helpers ---------------------------------------------------------------------------


def now(api: Api) -> str:
    return iso(api.clock.now())


def later(seconds: float) -> str:
    return iso(START + dt.timedelta(seconds=seconds))


def post_sim(api: Api, sid: str, data: dict[str, str]) -> httpx.Response:
    return api.post(f"/v1/Sims/{sid}", data=data)


def scheduled(api: Api, sid: str, data: dict[str, str]) -> dict[str, Any]:
    """An update that answers 202 with the Sim `scheduled`, updated now."""
    response = post_sim(api, sid, data)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "scheduled"
    assert body["date_updated"] == now(api)
    assert fetch(api, sid) == body
    return body


def immediate(api: Api, sid: str, data: dict[str, str]) -> dict[str, Any]:
    response = post_sim(api, sid, data)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sim_in(ops: Ops, status: str, *, fleet: bool = True) -> tuple[str, str | None]:
    """A Sim in `status` (with a Fleet unless told not), the clock moved on past it;
    returns the Sim and Fleet SIDs."""
    api = ops.api
    (card,) = api.cards(1)
    sid = register(api, card)["sid"]
    fleet_sid = new_fleet(api) if fleet else None
    if fleet_sid is not None:
        immediate(api, sid, {"Fleet": fleet_sid})
    if status != "new":
        scheduled(api, sid, {"Status": status})
        ops.advance(3)
        assert fetch(api, sid)["status"] == status
    ops.advance(1)  # later updates happen at a visibly later time
    return sid, fleet_sid


def assert_refused(
    ops: Ops, sid: str, data: dict[str, str], status: int, code: int, *words: str
) -> None:
    """The update is refused with this error and changes nothing at all."""
    before, jobs = fetch(ops.api, sid), ops.jobs()
    assert_error(post_sim(ops.api, sid, data), status, code, *words)
    assert fetch(ops.api, sid) == before
    assert ops.jobs() == jobs


def history(api: Api, sid: str) -> list[tuple[str, str]]:
    """The Sim's status events, oldest first."""
    with unit_of_work(api.engine, write=False) as session:
        rows = session.execute(
            select(SimStatusEvent.status, SimStatusEvent.occurred_at)
            .join(Sim, Sim.id == SimStatusEvent.sim_id)
            .where(Sim.sid == sid)
            .order_by(SimStatusEvent.id)
        )
        return [(status, iso(at)) for status, at in rows]
