"""What the control API answers, described for the OpenAPI document (and so the API
reference): one schema per route path (or per `METHOD path`, where the methods of a path
answer differently), and the named schemas they share.
tests/api/test_openapi.py checks real answers against them."""

from __future__ import annotations

from typing import Any

__all__ = ["CONTROL_ANSWERS", "CONTROL_SCHEMAS", "control_answer"]


def _field(kind: str, *, nullable: bool = False, **more: Any) -> dict[str, Any]:
    return {"type": kind, **({"nullable": True} if nullable else {}), **more}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


def _page(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return _object(**{key: _field("array", items=item), "meta": _field("object")})


def _all(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return _object(**{key: _field("array", items=item)})


_TIME: dict[str, Any] = {"format": "date-time"}
_CLOCK = {"mode": _field("string", enum=["real", "manual"]), "now": _field("string", **_TIME)}

CONTROL_SCHEMAS: dict[str, dict[str, Any]] = {
    "fleetsim.policy": _object(
        lifecycle=_field("string"),
        policy=_field("string", enum=["immediate", "delay", "manual"]),
        delay_seconds=_field("number"),
    ),
    "fleetsim.webhook_delivery": _object(
        id=_field("integer"),
        account_sid=_field("string"),
        kind=_field("string"),
        subject=_field("string", nullable=True),
        url=_field("string"),
        method=_field("string"),
        state=_field("string", enum=["pending", "delivered", "failed"]),
        attempts=_field(
            "array",
            items=_object(
                number=_field("integer"),
                attempted_at=_field("string", **_TIME),
                status_code=_field("integer", nullable=True),
                latency_ms=_field("integer", nullable=True),
                error=_field("string", nullable=True),
            ),
        ),
        date_created=_field("string", **_TIME),
        next_attempt_at=_field("string", nullable=True, **_TIME),
        delivered_at=_field("string", nullable=True, **_TIME),
    ),
}

CONTROL_ANSWERS: dict[str, dict[str, Any]] = {
    "/control/clock": _object(**_CLOCK),
    "/control/clock/advance": _object(**_CLOCK, jobs_run=_field("integer")),
    "/control/reset": _object(
        reset=_field("boolean"), accounts=_field("string", enum=["keep", "delete"])
    ),
    "/control/sids/seed": _object(seed=_field("integer")),
    "/control/policies": _all("policies", _ref("fleetsim.policy")),
    "/control/policies/{Lifecycle}": _ref("fleetsim.policy"),
    "/control/lifecycles/{Lifecycle}/{Sid}/progress": _object(jobs_run=_field("integer")),
    "/control/jobs": _object(jobs=_field("object", additionalProperties=_field("integer"))),
    "/control/webhooks": _page("webhooks", _ref("fleetsim.webhook_delivery")),
    "/control/webhooks/{Id}": _ref("fleetsim.webhook_delivery"),
    "/control/webhooks/{Id}/redeliver": _ref("fleetsim.webhook_delivery"),
    "/control/accounts/{AccountSid}/event-sink": _object(
        account_sid=_field("string"), event_sink_url=_field("string", nullable=True)
    ),
    "/control/esim/stock": _object(remaining=_field("integer")),
    "/control/esim/profiles/{Sid}/failure": _object(
        esim_profile_sid=_field("string"),
        status=_field("string"),
        next_error_code=_field("string"),
        next_error_message=_field("string"),
    ),
    "POST /control/accounts/{AccountSid}/api-clients": _object(
        client_id=_field("string"),
        name=_field("string", nullable=True),
        account_sid=_field("string"),
        lifetime_seconds=_field("integer"),
        client_secret=_field("string"),
    ),
    "GET /control/accounts/{AccountSid}/api-clients": _object(
        api_clients=_field(
            "array",
            items=_object(
                client_id=_field("string"),
                name=_field("string", nullable=True),
                account_sid=_field("string"),
                lifetime_seconds=_field("integer"),
            ),
        ),
        count=_field("integer"),
    ),
    "/control/accounts/{AccountSid}/api-clients/{ClientId}": _object(
        client_id=_field("string"), revoked=_field("boolean")
    ),
    "/control/settings-updates": _all("settings_updates", _ref("supersim.v1.settings_update")),
}


def control_answer(method: str, path: str) -> dict[str, Any] | None:
    """The schema of what `method path` of the control API answers."""
    return CONTROL_ANSWERS.get(f"{method} {path}") or CONTROL_ANSWERS.get(path)
