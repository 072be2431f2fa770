"""Every console route, composed in one list that the app mounts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fleetsim.console.auth import AUTH_ROUTES
from fleetsim.console.base import HERE, TEMPLATES, Visit, error_page
from fleetsim.console.bulk import BULK_ROUTES
from fleetsim.console.devices import DEVICE_ROUTES
from fleetsim.console.fleets import FLEET_ROUTES
from fleetsim.console.overview import OVERVIEW_ROUTES
from fleetsim.console.profiles import PROFILE_ROUTES
from fleetsim.console.sims import SIM_ROUTES
from fleetsim.console.usage import USAGE_ROUTES
from fleetsim.console.webhooks import WEBHOOK_ROUTES
from fleetsim.core.errors import NotFound
from fleetsim.db.tables import Account
from fleetsim.resources.accounts.service import active_accounts

__all__ = ["CONSOLE_ROUTES"]


def _accounts_for_operator(visit: Visit) -> list[Account]:
    return active_accounts(visit.session)


TEMPLATES.globals["accounts_for_operator"] = _accounts_for_operator


async def not_found(request: Request) -> Response:
    return error_page(request, NotFound(request.url.path))


CONSOLE_ROUTES: list[BaseRoute] = [
    *AUTH_ROUTES,
    *OVERVIEW_ROUTES,
    *SIM_ROUTES,
    *DEVICE_ROUTES,
    *BULK_ROUTES,
    *FLEET_ROUTES,
    *PROFILE_ROUTES,
    *USAGE_ROUTES,
    *WEBHOOK_ROUTES,
    Mount("/console/static", StaticFiles(directory=HERE / "static"), name="console_static"),
    Route("/console/{rest:path}", not_found, methods=["GET", "POST"], name="console_not_found"),
]
