"""A server killed with SIGKILL loses nothing: started again on the same database, it runs
every job that fell due and makes every callback, including the one whose delivery was
in flight at the moment of the kill (claimed again once its lease ran out)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx2 as httpx
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from fleetsim.billing.periods import ROLLOVER
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.tables import Job, Sim, SimStatusEvent, Webhook
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.sims.lifecycle import COMPLETE_UPDATE
from fleetsim.webhooks.service import DELIVER
from tests.contract.conftest import ACCOUNT_SID, AUTH_TOKEN, CREDENTIALS_ENV, generate_cards
from tests.support.checks import ok, poll
from tests.support.server import LiveServer

pytestmark = [pytest.mark.live]

OPERATOR_TOKEN = "crashtestoperator0123456789"
ENV = {**CREDENTIALS_ENV, "FLEETSIM_OPERATOR_TOKEN": OPERATOR_TOKEN}
START = "2026-01-01T00:00:00Z"
ARGS = ["--clock", "manual", "--clock-start", START, "--job-lease", "1"]
SIMS = 6
DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class Call:
    path: str
    params: dict[str, str]
    signed: bool
    answered: bool


class Receiver:
    """Callbacks land here. Requests to /hang hang (unanswered) while `hanging` is set."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.changed = threading.Condition()
        self.hanging = threading.Event()
        self.hanging.set()
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                params = dict(parse_qsl(body.decode(), keep_blank_values=True))
                signed = RequestValidator(AUTH_TOKEN).validate(
                    receiver.url(self.path), params, self.headers.get("X-Twilio-Signature", "")
                )
                hang = self.path.startswith("/hang") and receiver.hanging.is_set()
                receiver.record(Call(self.path, params, signed, answered=not hang))
                if hang:
                    # Never answered: the sender dies waiting. Then just drop the connection.
                    receiver.released.wait(DEADLINE_SECONDS)
                    self.close_connection = True
                    return
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def record(self, call: Call) -> None:
        with self.changed:
            self.calls.append(call)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[list[Call]], bool], what: str) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.calls), DEADLINE_SECONDS):
                pytest.fail(f"the receiver waited {DEADLINE_SECONDS:.0f}s for {what}: {self.calls}")

    def answered(self) -> list[Call]:
        with self.changed:
            return [c for c in self.calls if c.answered]

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        self.thread.start()
        try:
            yield self
        finally:
            self.released.set()
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)


@contextmanager
def server(database_url: str, workdir: Path) -> Iterator[LiveServer]:
    """A manual-clock server with one-second job leases; SIGTERM on the way out unless a
    test already stopped it."""
    live = LiveServer(database_url, workdir, env=dict(ENV), extra_args=list(ARGS))
    try:
        live.start()
        yield live
    finally:
        live.stop()


def api(live: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live.base_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10.0)


def control(live: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live.base_url, auth=("operator", OPERATOR_TOKEN), timeout=60.0)


def test_nothing_is_lost_when_the_server_is_killed(database_url: str, tmp_path: Path) -> None:
    cards = generate_cards(database_url, tmp_path, count=SIMS, seed=11)
    with Receiver().running() as receiver:
        # 1. Status changes that fall due later, and one callback stuck in flight.
        with server(database_url, tmp_path) as first, api(first) as v1, control(first) as ops:
            ok(v1.post("/v1/NetworkAccessProfiles", data={"UniqueName": "crash"}), 201)
            fleet = ok(
                v1.post("/v1/Fleets", data={"NetworkAccessProfile": "crash", "UniqueName": "c"}),
                201,
            )["sid"]
            sims = [
                ok(
                    v1.post(
                        "/v1/Sims",
                        data={"Iccid": c.iccid, "RegistrationCode": c.registration_code},
                    ),
                    201,
                )["sid"]
                for c in cards
            ]
            urls = {sid: receiver.url(f"/ok/{n}") for n, sid in enumerate(sims[:-1])}
            urls[sims[-1]] = receiver.url("/hang")
            for sid in sims[:-1]:  # due at +3 s by the default delay policy
                changes = {"Status": "active", "Fleet": fleet, "CallbackUrl": urls[sid]}
                body = ok(v1.post(f"/v1/Sims/{sid}", data=changes), 202)
                assert body["status"] == "scheduled"
            assert ok(ops.get("/control/jobs"))["jobs"] == {"pending": SIMS - 1}

            ok(ops.post("/control/policies/sim", data={"Policy": "immediate"}))
            in_flight = sims[-1]
            changes = {"Status": "active", "Fleet": fleet, "CallbackUrl": urls[in_flight]}
            ok(v1.post(f"/v1/Sims/{in_flight}", data=changes), 202)
            receiver.wait_for(lambda calls: len(calls) == 1, "the callback that hangs")
            # Pending: the SIMS - 1 updates, and the in-flight Sim's first billing rollover.
            assert ok(ops.get("/control/jobs"))["jobs"] == {
                "pending": SIMS,
                "done": 1,
                "running": 1,
            }
            first.stop(signal.SIGKILL)

        assert [c.path for c in receiver.calls] == ["/hang"]
        assert receiver.answered() == []
        receiver.hanging.clear()  # the receiver answers from now on
        receiver.released.set()

        # 2. The same command, on the same database: the clock is where it was.
        with server(database_url, tmp_path) as second, control(second) as ops:
            assert f"Clock: manual, now {START}" in second.output
            advanced = ok(ops.post("/control/clock/advance", data={"Seconds": "10"}))
            assert advanced["now"] == "2026-01-01T00:00:10Z"
            receiver.wait_for(
                lambda calls: {c.params["SimSid"] for c in calls if c.answered} == set(sims),
                "every callback",
            )

            def all_delivered() -> bool:
                hooks = ok(ops.get("/control/webhooks", params={"PageSize": "50"}))["webhooks"]
                return len(hooks) == SIMS and all(h["state"] == "delivered" for h in hooks)

            poll(all_delivered, "every delivery recorded as delivered")
            # Every update and delivery done; each active Sim waits for its billing rollover.
            assert ok(ops.get("/control/jobs"))["jobs"] == {"done": 2 * SIMS, "pending": SIMS}
            second.stop()

    # Every callback arrived, signed, with the status reached; the stuck one arrived again.
    for sid in sims:
        answered = [c for c in receiver.answered() if c.params["SimSid"] == sid]
        assert answered, sid
        assert all(c.signed and c.params["Status"] == "active" for c in answered), answered
        assert {c.path for c in answered} == {urls[sid].removeprefix(receiver.url(""))}
    assert [c.answered for c in receiver.calls if c.path == "/hang"][:2] == [False, True]

    engine = create_database_engine(database_url)
    try:
        with unit_of_work(engine, write=False) as session:
            statuses = dict(session.execute(select(Sim.sid, Sim.status)).all())
            events = session.execute(
                select(Sim.sid, SimStatusEvent.status)
                .join(Sim, Sim.id == SimStatusEvent.sim_id)
                .order_by(SimStatusEvent.id)
            ).all()
            jobs = session.execute(select(Job.kind, Job.subject, Job.state, Job.attempts)).all()
            hooks = session.execute(select(Webhook.id, Webhook.subject, Webhook.state)).all()
    finally:
        engine.dispose()

    assert statuses == dict.fromkeys(sims, "active")
    # Exactly one event per completion: registration (new), then the update (active).
    for sid in sims:
        assert [status for owner, status in events if owner == sid] == ["new", "active"], sid
    assert sorted((subject, state) for _, subject, state in hooks) == sorted(
        (sid, "delivered") for sid in sims
    )
    assert {state for kind, _, state, _ in jobs if kind != ROLLOVER} == {"done"}
    completions = sorted((subject, n) for kind, subject, _, n in jobs if kind == COMPLETE_UPDATE)
    assert [subject for subject, _ in completions] == sorted(sims)
    # The delivery the kill interrupted was claimed again once its lease ran out. (Other
    # jobs ran once, unless a one-second lease expired under load: then they ran again
    # but committed once, as the events above show.)
    deliveries = {subject: n for kind, subject, _, n in jobs if kind == DELIVER}
    assert set(deliveries) == {f"webhook:{id_}" for id_, _, _ in hooks}
    stuck = next(id_ for id_, subject, _ in hooks if subject == in_flight)
    assert deliveries[f"webhook:{stuck}"] >= 2
