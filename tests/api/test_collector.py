"""While the app runs, the garbage collector leaves out what the process held before it
began, and runs less often; both are as they were once the app stops."""

from __future__ import annotations

import gc

from sqlalchemy import Engine
from starlette.testclient import TestClient

from fleetsim.app.asgi import GC_THRESHOLD, create_app
from fleetsim.core.clock import FrozenClock
from fleetsim.core.sids import SidFactory
from fleetsim.http.runtime import Runtime


def test_the_app_freezes_what_came_before_and_restores_the_collector(
    engine: Engine, clock: FrozenClock, sids: SidFactory
) -> None:
    before = gc.get_threshold()
    app = create_app(Runtime(engine=engine, clock=clock, sids=sids))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold() == GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
