"""Finding a request's route without trying every route in turn.

Starlette's router matches the path against each route's pattern, in order, until one
matches, behind its exception middleware. `RouteIndex` sits in front of them and indexes
the same route list by the path's first two segments and its length, so a request to an
operation's `Endpoint` is matched against the few routes of its resource and handed to it
directly: an `Endpoint` answers its own errors. Whatever the index does not answer with an
`Endpoint` (an unknown path, a method the route does not take, the console's pages) goes
on to Starlette's router, which decides as it always did. Both read one route list, and the
index picks the route the router would: the first in the list whose pattern matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from fleetsim.http.endpoint import Endpoint

__all__ = ["RouteIndex"]


class RouteIndex:
    """ASGI middleware: a request for an `Endpoint`'s route goes straight to it."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        reach = [(_reach_of(route), route) for route in routes]
        self._candidates: dict[_Key, list[BaseRoute]] = {}
        for (slashes, first, second), _ in reach:
            if slashes is None or first is None:
                continue
            # Every route that may match a path of this shape, in the list's order; with
            # the second segment None, a path whose second segment no route names.
            for key in ((slashes, first, second), (slashes, first, None)):
                self._candidates[key] = [route for other, route in reach if _may_meet(other, key)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        await route.app(scope, receive, send)

    def _route(self, scope: Scope) -> Route | None:
        """The `Endpoint` route the router would pick, with the scope's path parameters
        set as it would set them; None to leave the request to the router."""
        if scope.get("root_path"):
            return None
        path: str = scope["path"]
        segments = path.split("/", 3)
        if len(segments) < 3:
            return None
        slashes = path.count("/")
        candidates = self._candidates.get((slashes, segments[1], segments[2]))
        if candidates is None:
            candidates = self._candidates.get((slashes, segments[1], None))
        for route in candidates or ():
            match = route.path_regex.match(path)  # type: ignore[attr-defined]
            if match is None:
                continue
            if isinstance(route, Route) and route.methods and scope["method"] not in route.methods:
                continue  # as the router does: a later route may take the method
            if not (isinstance(route, Route) and isinstance(route.endpoint, Endpoint)):
                return None  # the router's case: a page or a mount
            params: dict[str, Any] = {
                name: route.param_convertors[name].convert(value)
                for name, value in match.groupdict().items()
            }
            scope["route"] = route
            scope["endpoint"] = route.endpoint
            scope["path_params"] = params
            return route
        return None  # no route, or none for the method: the router answers 404 or 405


# The paths a route may match: how many slashes, the first and the second segment; None
# where it may be anything.
_Key = tuple[int | None, str | None, str | None]


def _reach_of(route: BaseRoute) -> _Key:
    path: str = getattr(route, "path", "")
    segments = path.split("/")

    def literal(index: int) -> str | None:
        return segments[index] if len(segments) > index and "{" not in segments[index] else None

    if isinstance(route, Route) and ":path}" not in path:
        return path.count("/"), literal(1), literal(2)
    if isinstance(route, Route | Mount):  # a path parameter or a mount: any depth below
        return None, literal(1), None
    return None, None, None


def _may_meet(reach: _Key, key: _Key) -> bool:
    """Whether a route of `reach` may match a path of `key` (None in `key`'s second
    segment: one that no route names)."""
    slashes, first, second = reach
    return (
        slashes in (None, key[0])
        and first in (None, key[1])
        and (second is None or (key[2] is not None and second == key[2]))
    )
