"""Operations: request ids, /metrics after traffic, and /health with its database check."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from fleetsim.app.asgi import create_app
from fleetsim.app.logs import JsonFormatter
from fleetsim.http.observability import UNMATCHED, current_request_id
from fleetsim.http.runtime import Runtime
from fleetsim.resources.fleets import service as fleet_service
from tests.api.conftest import Api, assert_error
from tests.api.lifecycle_fixtures import Ops
from tests.api.sim_helpers import new_fleet, register, update

Sample = tuple[str, tuple[tuple[str, str], ...]]


def scrape(api: Api) -> dict[Sample, float]:
    response = api.get("/metrics", auth=None)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(metrics: dict[Sample, float], operation: str, status: str) -> float:
    key = (
        "fleetsim_http_requests_total",
        (("method", "GET"), ("operation", operation), ("status", status)),
    )
    return metrics.get(key, 0.0)


def test_metrics_count_requests_per_operation_and_read_queues_from_the_database(
    ops: Ops,
) -> None:
    api = ops.api
    before = scrape(api)
    for _ in range(3):
        assert api.get("/v1/Networks").status_code == 200
    assert api.get(f"/v1/Fleets/HF{'0' * 32}").status_code == 404
    assert api.get("/nowhere").status_code == 404
    sid = register(api, api.cards(1)[0])["sid"]
    update(api, sid, {"Fleet": new_fleet(api)})
    activate = {"Status": "active", "CallbackUrl": "https://example.com/done"}
    assert api.post(f"/v1/Sims/{sid}", data=activate).status_code == 202
    # The update completes 3 s later (the default delay); let it wait 1.5 s past that.
    api.clock.advance(dt.timedelta(seconds=4.5))

    waiting = scrape(api)
    ops.advance(10)  # runs every due job: the Sim's update, then its callback
    after = scrape(api)

    assert requests(after, "ListNetwork", "200") - requests(before, "ListNetwork", "200") == 3
    assert requests(after, "FetchFleet", "404") - requests(before, "FetchFleet", "404") == 1
    assert requests(after, UNMATCHED, "404") - requests(before, UNMATCHED, "404") == 1
    latency = ("fleetsim_http_request_duration_seconds_count", (("operation", "ListNetwork"),))
    assert after[latency] - before.get(latency, 0.0) == 3
    assert waiting[("fleetsim_jobs_due", ())] == 1
    assert waiting[("fleetsim_oldest_due_job_age_seconds", ())] == 1.5
    assert after[("fleetsim_jobs_due", ())] == 0
    assert after[("fleetsim_oldest_due_job_age_seconds", ())] == 0
    assert after[("fleetsim_jobs", (("state", "done"),))] == 2
    assert after[("fleetsim_jobs", (("state", "dead"),))] == 0
    assert after[("fleetsim_webhooks", (("state", "delivered"),))] == 1
    assert after[("fleetsim_webhook_attempts_total", (("outcome", "success"),))] == 1
    assert after[("fleetsim_webhook_attempts_total", (("outcome", "http_error"),))] == 0
    assert len(ops.transport.sent) == 1


def test_a_request_id_is_echoed_or_made(api: Api) -> None:
    given = api.get("/v1/Networks", headers={"X-Request-Id": "trace-42.a:b"})
    made = api.get("/v1/Networks")
    unsafe = api.get("/v1/Networks", headers={"X-Request-Id": "bad id\twith spaces"})
    error = api.get(f"/v1/Fleets/HF{'0' * 32}", headers={"X-Request-Id": "err-1"})

    assert given.headers["X-Request-Id"] == "trace-42.a:b"
    assert len(made.headers["X-Request-Id"]) == 32
    assert unsafe.headers["X-Request-Id"] not in ("", "bad id\twith spaces")
    assert error.headers["X-Request-Id"] == "err-1"


def test_an_unexpected_error_is_a_twilio_500_with_the_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    logged: list[tuple[str | None, bool]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append((current_request_id(), record.exc_info is not None))

    capture = Capture(logging.ERROR)
    logging.getLogger("fleetsim.http").addHandler(capture)
    monkeypatch.setattr(fleet_service, "list_fleets", broken)
    try:
        answer = api.get("/v1/Fleets", headers={"X-Request-Id": "bug-1"})
    finally:
        logging.getLogger("fleetsim.http").removeHandler(capture)

    assert_error(answer, 500, 20500, "see the server log")
    assert answer.headers["X-Request-Id"] == "bug-1"
    assert "a bug" not in answer.text
    assert logged == [("bug-1", True)]


def test_the_access_log_in_json_carries_the_request_id(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fleetsim.access"):
        api.get("/v1/Networks", headers={"X-Request-Id": "log-me"})

    (record,) = [r for r in caplog.records if r.name == "fleetsim.access"]
    record.request_id = "log-me"  # what the handler's filter adds in `serve`
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "log-me"
    assert (line["level"], line["logger"]) == ("info", "fleetsim.access")
    assert (line["method"], line["path"], line["status"]) == ("GET", "/v1/Networks", 200)
    assert line["operation"] == "ListNetwork"
    assert line["message"].startswith("GET /v1/Networks 200 ")


def test_health_checks_the_database(api: Api) -> None:
    ok = api.get("/health", auth=None)
    # A server whose database cannot be opened: health says so, with 503.
    broken = create_engine("sqlite:////nonexistent-folder/fleetsim.db")
    runtime = Runtime(engine=broken, clock=api.clock, sids=api.sids)
    from starlette.testclient import TestClient

    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        down = client.get("/health")
    broken.dispose()

    assert (ok.status_code, ok.json()) == (200, {"status": "ok", "database": "ok"})
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert "OperationalError" in down.json()["database"]
