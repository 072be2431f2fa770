"""Nodes sharing one database start at the same moment: each runs the start-up steps that
create what every node needs (the clock row, the catalogue, the operator credential), and
none may fail because another node created the same row first."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, delete, func, select

from fleetsim.app.setup import ensure_startup_operator
from fleetsim.core.clock import FrozenClock
from fleetsim.db.tables import ClockState, OperatorCredential
from fleetsim.db.uow import startup_unit_of_work, unit_of_work
from fleetsim.engine.clock import configure_clock
from fleetsim.network.catalogue import sync_catalogue

NODES = 6
ROUNDS = 4


def start_node(engine: Engine, clock: FrozenClock) -> None:
    """What `fleetsim serve` and `fleetsim worker` do against the database on start."""
    with startup_unit_of_work(engine) as session:
        sync_catalogue(session)
    configure_clock(engine, None, start=None, system=clock)
    ensure_startup_operator(engine, clock=clock)


def run_together(count: int, step: Callable[[], None]) -> list[BaseException]:
    """Run `step` in `count` threads released at once; the errors they raised."""
    gate = threading.Barrier(count)
    errors: list[BaseException] = []

    def node() -> None:
        gate.wait()
        try:
            step()
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=node) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_nodes_starting_together_each_start_and_share_one_of_everything(
    engine: Engine, clock: FrozenClock
) -> None:
    for _ in range(ROUNDS):
        with unit_of_work(engine, write=True) as session:
            session.execute(delete(ClockState))
            session.execute(delete(OperatorCredential))

        errors = run_together(NODES, lambda: start_node(engine, clock))

        assert errors == []
        with unit_of_work(engine, write=False) as session:
            clocks = session.execute(select(func.count()).select_from(ClockState)).scalar_one()
            operators = session.execute(
                select(func.count()).select_from(OperatorCredential)
            ).scalar_one()
        assert (clocks, operators) == (1, 1)
