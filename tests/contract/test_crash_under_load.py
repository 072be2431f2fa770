"""Crash safety under load: clients keep writing (creates, updates, commands) while the
server is killed with SIGKILL at random moments and started again on the same database.
Afterwards every request that was answered 2xx is in the database, every change it
scheduled has happened, and every webhook that fell due has been delivered.

A request cut off by the kill has no answer, so it may or may not have been committed; the
test only requires that it left nothing half done (no duplicate, no dangling job).
"""

from __future__ import annotations

import random
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from fleetsim.billing.periods import ROLLOVER
from fleetsim.db.dialect import create_database_engine
from fleetsim.db.tables import Fleet, Job, Sim, SimStatusEvent, SmsCommand, Webhook
from fleetsim.db.uow import unit_of_work
from tests.contract.conftest import ACCOUNT_SID, AUTH_TOKEN, CREDENTIALS_ENV, generate_cards
from tests.support.checks import ok, poll
from tests.support.receiver import Received, Receiver
from tests.support.server import LiveServer, free_port

pytestmark = [pytest.mark.live]

OPERATOR_TOKEN = "crashloadoperator0123456789"
ENV = {**CREDENTIALS_ENV, "FLEETSIM_OPERATOR_TOKEN": OPERATOR_TOKEN}
ARGS = ["--clock", "manual", "--clock-start", "2026-03-01T00:00:00Z", "--job-lease", "1"]
KILLS = 3
CLIENTS = 3
ATTACHED_SIMS = 3
CARDS = 240
DEADLINE = 60.0


@dataclass(frozen=True)
class Outcome:
    """One request of the load: its answer's status, or None when the kill cut it off."""

    operation: str
    key: str
    status: int | None
    body: dict[str, Any]


class Load:
    """Client threads writing to the server until stopped; they pause while it is down."""

    def __init__(self, base_url: str, context: dict[str, Any], seed: int) -> None:
        self.base_url = base_url
        self.context = context
        self.seed = seed
        self.outcomes: list[Outcome] = []
        self.answered = threading.Condition()
        self.up = threading.Event()
        self.up.set()
        self.stopping = threading.Event()
        self.cards: list[tuple[str, str]] = list(context["cards"])
        self.cards_lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.up.set()
        for thread in self.threads:
            thread.join(timeout=DEADLINE)

    def answered_count(self) -> int:
        with self.answered:
            return sum(o.status is not None for o in self.outcomes)

    def wait_until_answered(self, count: int) -> None:
        with self.answered:
            reached = self.answered.wait_for(
                lambda: sum(o.status is not None for o in self.outcomes) >= count, DEADLINE
            )
        assert reached, f"the load did not reach {count} answers in {DEADLINE:.0f}s"

    def _record(self, outcome: Outcome) -> None:
        with self.answered:
            self.outcomes.append(outcome)
            self.answered.notify_all()

    def _next_card(self) -> tuple[str, str] | None:
        with self.cards_lock:
            return self.cards.pop() if self.cards else None

    def _client(self, number: int) -> None:
        rng = random.Random(self.seed * 100 + number)
        registered: list[str] = []
        sent = 0
        auth = (ACCOUNT_SID, AUTH_TOKEN)
        with httpx.Client(base_url=self.base_url, auth=auth, timeout=15.0) as http:
            while not self.stopping.is_set():
                sent += 1
                operation, path, form, key = self._request(rng, number, sent, registered)
                try:
                    response = http.post(path, data=form)
                except httpx.TransportError:
                    self._record(Outcome(operation, key, None, {}))
                    self.up.wait(DEADLINE)
                    continue
                body = response.json()
                if operation == "register" and response.status_code == 201:
                    registered.append(body["sid"])
                self._record(Outcome(operation, key, response.status_code, body))

    def _request(
        self, rng: random.Random, number: int, sent: int, registered: list[str]
    ) -> tuple[str, str, dict[str, str], str]:
        context = self.context
        choice = rng.random()
        if choice < 0.25 and registered:
            sim = registered.pop(rng.randrange(len(registered)))
            form = {
                "Status": "active",
                "Fleet": context["fleet"],
                "CallbackUrl": context["callback"] + f"/sim/{sim}",
            }
            return "activate", f"/v1/Sims/{sim}", form, sim
        if choice < 0.5:
            card = self._next_card()
            if card is not None:
                iccid, code = card
                return "register", "/v1/Sims", {"Iccid": iccid, "RegistrationCode": code}, iccid
        if choice < 0.75:
            name = f"load-{number}-{sent}"
            form = {"UniqueName": name, "NetworkAccessProfile": context["profile"]}
            return "fleet", "/v1/Fleets", form, name
        sim = rng.choice(context["attached"])
        payload = f"c{number}-{sent}"
        form = {"Sim": sim, "Payload": payload, "CallbackUrl": context["callback"] + "/command"}
        return "command", "/v1/SmsCommands", form, payload


@contextmanager
def clients(live: LiveServer) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with (
        httpx.Client(base_url=live.base_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=15) as v1,
        httpx.Client(base_url=live.base_url, auth=("operator", OPERATOR_TOKEN), timeout=60) as ops,
    ):
        yield v1, ops


def prepare(live: LiveServer, cards: list[tuple[str, str]], callback: str) -> dict[str, Any]:
    """A profile, a fleet, and attached active Sims to send commands to."""
    with clients(live) as (v1, ops):
        ok(ops.post("/control/policies/sim", data={"Policy": "immediate"}))
        network = ok(v1.get("/v1/Networks", params={"IsoCountry": "US", "PageSize": "1"}))
        network_sid = network["networks"][0]["sid"]
        profile = ok(
            v1.post("/v1/NetworkAccessProfiles", data={"UniqueName": "p", "Networks": network_sid}),
            201,
        )["sid"]
        fleet = ok(v1.post("/v1/Fleets", data={"NetworkAccessProfile": profile}), 201)["sid"]
        attached = []
        for iccid, code in cards[:ATTACHED_SIMS]:
            sim = ok(v1.post("/v1/Sims", data={"Iccid": iccid, "RegistrationCode": code}), 201)
            ok(v1.post(f"/v1/Sims/{sim['sid']}", data={"Status": "active", "Fleet": fleet}), 202)
            attached.append(sim["sid"])
        poll(
            lambda: all(ok(v1.get(f"/v1/Sims/{sid}"))["status"] == "active" for sid in attached),
            "the command Sims to become active",
        )
        for sid in attached:
            assert ok(v1.post(f"/devices/{sid}/attach", data={"Network": network_sid}))["attached"]
    return {
        "profile": profile,
        "fleet": fleet,
        "attached": attached,
        "callback": callback,
        "cards": cards[ATTACHED_SIMS:],
    }


def settle(live: LiveServer, database_url: str) -> None:
    """Move the clock on until every job but the month-long billing rollovers is done and
    every webhook is delivered."""
    engine = create_database_engine(database_url)
    try:
        with clients(live) as (_, ops):

            def unsettled() -> list[Any]:
                ok(ops.post("/control/clock/advance", data={"Seconds": "5"}))
                with unit_of_work(engine, write=False) as session:
                    jobs = session.execute(
                        select(Job.kind, Job.subject, Job.state, Job.due_at, Job.last_error).where(
                            Job.kind != ROLLOVER, Job.state != "done"
                        )
                    ).all()
                    hooks = session.execute(
                        select(Webhook.id, Webhook.state).where(Webhook.state != "delivered")
                    ).all()
                return [*jobs, *hooks]

            left: list[Any] = []

            def settled() -> bool:
                left[:] = unsettled()
                return not left

            poll(settled, lambda: f"every due job done and webhook delivered; left: {left}")
    finally:
        engine.dispose()


def test_no_acknowledged_write_is_lost_across_kills(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(20261122)
    cards = [
        (c.iccid, c.registration_code)
        for c in generate_cards(database_url, tmp_path, count=CARDS, seed=5)
    ]
    port = free_port()

    def start() -> LiveServer:
        live = LiveServer(database_url, tmp_path, env=dict(ENV), extra_args=list(ARGS), port=port)
        return live.start()

    with Receiver(default=204) as receiver:
        live = start()
        try:
            context = prepare(live, cards, receiver.base_url)
            with Load(live.base_url, context, seed=rng.randrange(1000)) as load:
                for _ in range(KILLS):
                    load.wait_until_answered(load.answered_count() + rng.randint(10, 60))
                    load.up.clear()
                    live.stop(signal.SIGKILL)
                    live = start()
                    load.up.set()
                load.wait_until_answered(load.answered_count() + 30)
            settle(live, database_url)
        finally:
            live.stop()
        outcomes = load.outcomes
        callbacks = receiver.requests

    answered = [o for o in outcomes if o.status is not None]
    assert len(answered) > 100, "the load should have made real progress"
    statuses = {o.status for o in answered}
    assert statuses <= {200, 201, 202}, [o for o in answered if o.status not in (200, 201, 202)]
    check_database(database_url, answered)
    check_callbacks(callbacks, answered)
    lost = 0  # every check above fails the test on the first lost write
    print(
        f"\ncrash under load: {KILLS} kills survived, {len(outcomes)} requests "
        f"({len(outcomes) - len(answered)} cut off), {len(answered)} acknowledged writes, "
        f"{lost} lost"
    )


def check_database(database_url: str, answered: list[Outcome]) -> None:
    engine = create_database_engine(database_url)
    try:
        with unit_of_work(engine, write=False) as session:
            fleets = dict(session.execute(select(Fleet.unique_name, Fleet.sid)).all())
            sims = dict(session.execute(select(Sim.iccid, Sim.sid)).all())
            status_of = dict(session.execute(select(Sim.sid, Sim.status)).all())
            activations = (
                session.execute(
                    select(Sim.sid)
                    .join(SimStatusEvent, SimStatusEvent.sim_id == Sim.id)
                    .where(SimStatusEvent.status == "active")
                )
                .scalars()
                .all()
            )
            commands = dict(session.execute(select(SmsCommand.sid, SmsCommand.status)).all())
            jobs = session.execute(select(Job.kind, Job.state)).all()
            hooks = session.execute(select(Webhook.state)).scalars().all()
    finally:
        engine.dispose()

    activated: dict[str, int] = {}
    for sid in activations:
        activated[sid] = activated.get(sid, 0) + 1
    for outcome in answered:
        if outcome.operation == "fleet":
            assert fleets.get(outcome.key) == outcome.body["sid"], outcome
        elif outcome.operation == "register":
            assert sims.get(outcome.key) == outcome.body["sid"], outcome
        elif outcome.operation == "activate":
            assert status_of[outcome.key] == "active", outcome
            assert activated.get(outcome.key) == 1, outcome
        else:
            assert commands.get(outcome.body["sid"]) == "delivered", outcome
    assert all(count == 1 for count in activated.values()), activated
    assert {state for kind, state in jobs if kind != ROLLOVER} == {"done"}
    assert set(hooks) == {"delivered"}


def check_callbacks(callbacks: list[Received], answered: list[Outcome]) -> None:
    validator = RequestValidator(AUTH_TOKEN)
    for request in callbacks:
        assert validator.validate(request.url, request.form, request.signature), request
    delivered_commands = {
        r.form["SmsCommandSid"] for r in callbacks if r.form.get("Status") == "delivered"
    }
    activated_sims = {
        r.path.removeprefix("/sim/") for r in callbacks if r.form.get("Status") == "active"
    }
    for outcome in answered:
        if outcome.operation == "command":
            assert outcome.body["sid"] in delivered_commands, outcome
        elif outcome.operation == "activate":
            assert outcome.key in activated_sims, outcome
