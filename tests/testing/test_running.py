"""`fleetsim.testing.running()`, the context manager for use outside pytest: a server up
for the block, gone (process and files) after it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy.engine import make_url

from fleetsim.testing import running
from tests.support.checks import poll

pytestmark = [pytest.mark.live]


def access_lines(log_path: Path) -> list[dict[str, Any]]:
    """The access log's JSON lines written so far (a line still being written is left out)."""
    lines = []
    for text in log_path.read_text().splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue  # uvicorn's own start-up lines, or the end of the file mid-write
    return [line for line in lines if line.get("logger") == "fleetsim.access"]


def test_a_server_runs_for_the_block_only_and_logs_json() -> None:
    start = dt.datetime(2027, 3, 1, 8, 30, tzinfo=dt.UTC)
    with running(clock_start=start, extra_args=("--log-format", "json")) as fleetsim:
        client = fleetsim.client()
        networks = client.supersim.v1.networks.list(iso_country="US", limit=3)
        now = fleetsim.clock.now()
        traced = httpx.get(f"{fleetsim.url}/health", headers={"X-Request-Id": "trace-7"})
        database = Path(str(make_url(fleetsim.database_url).database))
        assert database.exists()
        log_path = fleetsim.log_path
        assert log_path is not None
        # The access line is written once the response has gone: wait for it.
        poll(
            lambda: any(line["request_id"] == "trace-7" for line in access_lines(log_path)),
            "the access log line of the traced request",
        )
        access = access_lines(log_path)

    assert len(networks) == 3
    assert traced.headers["X-Request-Id"] == "trace-7"
    assert {"path": "/health", "status": 200, "request_id": "trace-7"}.items() <= next(
        line for line in access if line["request_id"] == "trace-7"
    ).items()
    assert any(line["operation"] == "ListNetwork" for line in access)
    assert now == start
    assert not database.parent.exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{fleetsim.url}/health", timeout=2.0)
