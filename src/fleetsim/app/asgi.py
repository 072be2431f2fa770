"""The application, composed in one place from the resources' route lists."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fleetsim.api.accounts.routes import ACCOUNT_ROUTES
from fleetsim.api.api_clients.routes import API_CLIENT_ROUTES
from fleetsim.api.devices.data_routes import DATA_ROUTES
from fleetsim.api.devices.routes import DEVICE_ROUTES
from fleetsim.api.esim_profiles.routes import ROUTES as ESIM_PROFILE_ROUTES
from fleetsim.api.esim_profiles.smdp_routes import SMDP_ROUTES
from fleetsim.api.fleets.routes import ROUTES as FLEET_ROUTES
from fleetsim.api.ip_commands.device_routes import IP_COMMAND_DEVICE_ROUTES
from fleetsim.api.ip_commands.routes import ROUTES as IP_COMMAND_ROUTES
from fleetsim.api.network_access_profiles.routes import ROUTES as PROFILE_ROUTES
from fleetsim.api.networks.routes import ROUTES as NETWORK_ROUTES
from fleetsim.api.settings_updates.routes import ROUTES as SETTINGS_UPDATE_ROUTES
from fleetsim.api.sims.routes import ROUTES as SIM_ROUTES
from fleetsim.api.sms_commands.device_routes import DEVICE_SMS_ROUTES
from fleetsim.api.sms_commands.routes import ROUTES as SMS_COMMAND_ROUTES
from fleetsim.api.usage_records.routes import ROUTES as USAGE_RECORD_ROUTES
from fleetsim.api.webhook_secrets.routes import WEBHOOK_SECRET_ROUTES
from fleetsim.app.coverage import coverage_page
from fleetsim.app.openapi import openapi_json
from fleetsim.console.routes import CONSOLE_ROUTES
from fleetsim.control.provisioning import PROVISIONING_ROUTES
from fleetsim.control.routes import CONTROL_ROUTES
from fleetsim.core.dialect import dialect_of
from fleetsim.core.errors import InternalError, MethodNotAllowed, NotFound, TwilioError
from fleetsim.db.dialect import dispose_loop_engine
from fleetsim.engine.worker import Worker
from fleetsim.http.endpoint import error_headers
from fleetsim.http.home import HOME_ROUTES
from fleetsim.http.observability import (
    INTERNAL_ERROR_MESSAGE,
    RequestObservability,
    health,
    metrics,
)
from fleetsim.http.routing import RouteIndex
from fleetsim.http.runtime import Runtime
from fleetsim.resources.accounts.cache import keep_fresh as keep_credentials_fresh

__all__ = ["API_ROUTES", "app_routes", "create_app"]

log = logging.getLogger("fleetsim.http")

# Starlette tries routes in order until one matches; `RouteIndex` finds an operation's
# route among its resource's few, and the router sees what is left.
API_ROUTES: list[Route] = [
    *SIM_ROUTES,
    *SMS_COMMAND_ROUTES,
    *IP_COMMAND_ROUTES,
    *FLEET_ROUTES,
    *PROFILE_ROUTES,
    *NETWORK_ROUTES,
    *USAGE_RECORD_ROUTES,
    *ESIM_PROFILE_ROUTES,
    *SETTINGS_UPDATE_ROUTES,
]


# The router's error answers (an unknown path, a method a route does not take, the
# console's errors). The handlers are coroutines: Starlette runs a plain function handler
# in a worker thread, and the hand-off cost several times the rest of the answer.


async def twilio_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TwilioError)
    return _twilio_answer(request, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _twilio_answer(request, NotFound(request.url.path))
    if exc.status_code == 405:
        return _twilio_answer(request, MethodNotAllowed(request.method, request.url.path))
    error = TwilioError(str(exc.detail), status=exc.status_code, code=20000 + exc.status_code)
    return _twilio_answer(request, error)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    # The last resort, for a failure of the request observability itself: that middleware
    # answers every other unexpected error, with the request's id.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _twilio_answer(request, InternalError(INTERNAL_ERROR_MESSAGE))


def _twilio_answer(request: Request, error: TwilioError) -> Response:
    dialect = dialect_of(request.headers.get("authorization"))
    return JSONResponse(
        error.body(dialect), status_code=error.status, headers=error_headers(error, dialect)
    )


# How long a thread keeps the GIL while another waits for it. The event loop is busy under
# load, and the threads beside it (PostgreSQL's units of work, the job worker) wait for the
# GIL after every round trip to the database: Python's 5 ms made each such wait up to
# 5 ms (measured with `bench/api.py`; see bench/README.md).
THREAD_SWITCH_INTERVAL = 0.0005  # seconds
# The garbage collector, while the app runs. A collection of the oldest generation visits
# every object the process holds, and most were made before the app began (modules,
# routes, SQLAlchemy's compiled statements and pools) and are never garbage: frozen
# (`gc.freeze`), they are left out. Each request makes and frees thousands of objects,
# freed by their counts, not by the collector, so a larger first generation runs it less
# often for nothing (bench/README.md measures both).
GC_THRESHOLD = (20_000, 10, 10)


def app_routes() -> list[BaseRoute]:
    """Every route of the app, in the order the router tries them."""
    return [
        *API_ROUTES,
        *ACCOUNT_ROUTES,
        *API_CLIENT_ROUTES,
        *WEBHOOK_SECRET_ROUTES,
        *CONTROL_ROUTES,
        *PROVISIONING_ROUTES,
        *DEVICE_ROUTES,
        *DATA_ROUTES,
        *DEVICE_SMS_ROUTES,
        *IP_COMMAND_DEVICE_ROUTES,
        *SMDP_ROUTES,
        Route("/health", health, methods=["GET"], name="health"),
        *HOME_ROUTES,
        *CONSOLE_ROUTES,
        Route("/openapi.json", openapi_json, methods=["GET"], name="openapi"),
        Route("/openapi/coverage", coverage_page, methods=["GET"], name="coverage"),
        Route("/metrics", metrics, methods=["GET"], name="metrics"),
    ]


def create_app(runtime: Runtime, *, background_worker: Worker | None = None) -> Starlette:
    """The app; `background_worker` (if any) runs while the app does."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(THREAD_SWITCH_INTERVAL)
        gc_threshold = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLD)
        gc.freeze()
        if background_worker is not None:
            background_worker.start()
        try:
            async with keep_credentials_fresh(runtime.engine):
                yield
        finally:
            if background_worker is not None:
                background_worker.stop()
            await dispose_loop_engine(runtime.engine)  # its connections belong to this loop
            gc.unfreeze()
            gc.set_threshold(*gc_threshold)
            sys.setswitchinterval(switch_interval)

    routes = app_routes()
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestObservability), Middleware(RouteIndex, routes=routes)],
        lifespan=lifespan,
        exception_handlers={
            TwilioError: twilio_error,
            HTTPException: http_error,
            Exception: unexpected_error,
        },
    )
    # Twilio's paths have no trailing slash; answer 404, not a redirect built from Host.
    app.router.redirect_slashes = False
    app.state.runtime = runtime
    return app
