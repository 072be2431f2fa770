"""`fleetsim.testing.running()`, the context manager for use outside pytest: a server up
for the block, gone (process and files) after it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy.engine import make_url

from fleetsim.testing import running

pytestmark = [pytest.mark.live]


def test_a_server_runs_for_the_block_only() -> None:
    start = dt.datetime(2027, 3, 1, 8, 30, tzinfo=dt.UTC)
    with running(clock_start=start) as fleetsim:
        client = fleetsim.client()
        networks = client.supersim.v1.networks.list(iso_country="US", limit=3)
        now = fleetsim.clock.now()
        database = Path(str(make_url(fleetsim.database_url).database))
        assert database.exists()

    assert len(networks) == 3
    assert now == start
    assert not database.parent.exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{fleetsim.url}/health", timeout=2.0)
