"""`RouteIndex` picks the route Starlette's router would, or leaves the request to it."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Match, Route, Router

from fleetsim.app.asgi import app_routes
from fleetsim.http.endpoint import Endpoint
from fleetsim.http.routing import RouteIndex

ROUTES = app_routes()
METHODS = ("GET", "POST", "DELETE", "HEAD", "PUT")


def sample_paths() -> list[str]:
    """A path for each route (its parameters filled in), and paths no route has."""
    paths = []
    for route in ROUTES:
        path = getattr(route, "path", "")
        paths.append(re.sub(r"\{[^}]+\}", "HS" + "0" * 32, path) or "/")
        paths.append(re.sub(r"\{[^}]+\}", "x%20y", path) + "/")
    return [
        *paths,
        "/",
        "/v1",
        "/v1/",
        "/v1/Nothing",
        "/v1/Sims/a/b/c/d",
        "/console/static/app.css",
        "/v1/Sims//BillingPeriods",
    ]


def router_choice(path: str, method: str) -> Route | None:
    """The route Starlette's router calls for a full match, if any."""
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    for route in ROUTES:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route if isinstance(route, Route) else None
    return None


@pytest.mark.parametrize("method", METHODS)
def test_the_index_picks_the_routers_route_or_none(method: str) -> None:
    index = RouteIndex(Router(), ROUTES)
    served = 0
    for path in sample_paths():
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        chosen = index._route(scope)
        expected = router_choice(path, method)
        if chosen is not None:
            assert chosen is expected, (method, path)
            assert isinstance(chosen.endpoint, Endpoint)
            served += 1
        elif expected is not None and isinstance(expected.endpoint, Endpoint):
            pytest.fail(f"{method} {path}: the index left {expected.path} to the router")
    if method in ("GET", "POST"):
        assert served > 20  # the operations' routes do go through the index


def test_path_parameters_are_set_as_the_router_sets_them() -> None:
    index = RouteIndex(Router(), ROUTES)
    scope = {"type": "http", "path": "/v1/Sims/my%20sim", "method": "GET", "root_path": ""}
    route = index._route(scope)
    assert route is not None
    assert scope["route"] is route
    assert scope["path_params"] == {"Sid": "my%20sim"}


def test_a_root_path_is_left_to_the_router() -> None:
    index = RouteIndex(Router(), ROUTES)
    scope = {"type": "http", "path": "/api/v1/Sims", "method": "GET", "root_path": "/api"}
    assert index._route(scope) is None
