"""Absolute URLs in responses point at this server, so SDKs can follow them verbatim."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

from starlette.requests import Request
from starlette.types import Scope

from fleetsim.core.paging import PageRequest
from fleetsim.db.paging import Page

__all__ = ["Urls", "page_meta"]


@dataclass(frozen=True)
class Urls:
    base: str

    @classmethod
    def for_request(cls, request: Request, public_url: str | None) -> Urls:
        return cls.for_scope(request.scope, public_url)

    @classmethod
    def for_scope(cls, scope: Scope, public_url: str | None) -> Urls:
        if public_url:
            return cls(public_url.rstrip("/"))
        # From the scope, not `request.url`, which parses the whole URL on every request.
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        if not host:
            server_host, server_port = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server_host}:{server_port}"
        return cls(f"{scope.get('scheme', 'http')}://{host}")

    def absolute(self, path: str) -> str:
        return self.base + path


def page_meta(
    urls: Urls,
    path: str,
    key: str,
    filters: Sequence[tuple[str, str]],
    request: PageRequest,
    page: Page[Any],
) -> dict[str, Any]:
    """Twilio's `meta` envelope; filters are echoed as the client supplied them."""

    # What every link shares is encoded once (a page makes up to four links, and encoding
    # showed in the profile of a page of Sims): the same text `urlencode` gives the query.
    shared = urlencode([*filters, ("PageSize", str(request.page_size))])
    base = f"{urls.absolute(path)}?{shared}&Page="

    def link(number: int, token: str | None) -> str:
        if token:
            return f"{base}{number}&PageToken={quote_plus(token)}"
        return f"{base}{number}"

    return {
        "first_page_url": link(0, None),
        "key": key,
        "next_page_url": link(request.page + 1, page.next.encode()) if page.next else None,
        "page": request.page,
        "page_size": request.page_size,
        "previous_page_url": (
            link(max(request.page - 1, 0), page.previous.encode()) if page.previous else None
        ),
        "url": link(request.page, request.token),
    }
