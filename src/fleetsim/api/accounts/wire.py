"""The 2010 API's JSON: snake_case fields, RFC 2822 dates ("Mon, 16 Aug 2010 03:45:01
+0000"), relative URIs, and its own paging envelope (`first_page_uri`, `next_page_uri`,
`page`, `page_size`, `start`, `end`, `uri`, ... beside the items) instead of v1's `meta`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from fleetsim.core.clock import utc
from fleetsim.core.paging import PageRequest
from fleetsim.db.paging import Page
from fleetsim.db.tables import Account, ApiKey
from fleetsim.resources.accounts.keys import NewApiKey
from fleetsim.resources.accounts.service import ACCOUNTS_PATH, account_path

__all__ = ["list_envelope", "render_account", "render_key", "render_new_key", "rfc2822"]


def rfc2822(value: dt.datetime) -> str:
    return format_datetime(utc(value).replace(microsecond=0))


def render_account(account: Account, *, owner_sid: str, auth_token: str) -> dict[str, Any]:
    """Deviation: `subresource_uris` lists only what fleetsim serves (the keys)."""
    return {
        "auth_token": auth_token,
        "date_created": rfc2822(account.date_created),
        "date_updated": rfc2822(account.date_updated),
        "friendly_name": account.friendly_name,
        "owner_account_sid": owner_sid,
        "sid": account.sid,
        "status": account.status,
        "subresource_uris": {"keys": f"{ACCOUNTS_PATH}/{account.sid}/Keys.json"},
        "type": "Full",
        "uri": account_path(account.sid),
    }


def render_key(key: ApiKey) -> dict[str, Any]:
    return {
        "sid": key.sid,
        "friendly_name": key.friendly_name,
        "date_created": rfc2822(key.date_created),
        "date_updated": rfc2822(key.date_updated),
    }


def render_new_key(created: NewApiKey) -> dict[str, Any]:
    return {**render_key(created.key), "secret": created.secret}


def list_envelope(
    path: str,
    key: str,
    items: list[dict[str, Any]],
    *,
    filters: Sequence[tuple[str, str]],
    request: PageRequest,
    page: Page[Any],
) -> dict[str, Any]:
    """A 2010 list page: the items under `key`, and the paging fields around them."""

    def uri(number: int, token: str | None) -> str:
        query = [*filters, ("PageSize", str(request.page_size)), ("Page", str(number))]
        if token:
            query.append(("PageToken", token))
        return path + "?" + urlencode(query)

    start = request.page * request.page_size
    return {
        key: items,
        "end": start + max(len(items) - 1, 0),
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(request.page + 1, page.next.encode()) if page.next else None,
        "page": request.page,
        "page_size": request.page_size,
        "previous_page_uri": (
            uri(max(request.page - 1, 0), page.previous.encode()) if page.previous else None
        ),
        "start": start,
        "uri": uri(request.page, request.token),
    }
