"""Twilio's Python SDK pointed at a fleetsim server: a redirecting HTTP client (sync and
async) and one-call constructors of a `twilio.rest.Client`.

None of Twilio's SDKs has a base-URL option, so every request's URL is rewritten to the
fleetsim URL, whatever host (`supersim.twilio.com`, an edge or region label, or the
server's own next-page link) the library computed. twilio comes with the `testing` extra:
`pip install "fleetsim[testing]"` (it brings aiohttp too, for the async client).
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twilio.rest import Client

__all__ = [
    "async_fleetsim_client",
    "async_redirecting_http_client",
    "fleetsim_client",
    "redirect_url",
    "redirecting_http_client",
]

_HOST = re.compile(r"^https?://[^/]+")
_INSTALL = (
    "fleetsim's client helpers need Twilio's Python SDK: "
    'pip install "fleetsim[testing]" (or pip install twilio)'
)


def redirect_url(url: str, base_url: str) -> str:
    """`url` with its scheme and host replaced by `base_url` (path and query kept)."""
    return _HOST.sub(base_url.rstrip("/"), url, count=1)


def _twilio() -> Any:
    try:
        import twilio.http.async_http_client
        import twilio.http.http_client
        import twilio.rest
    except ImportError as exc:  # pragma: no cover - exercised by hand without twilio
        raise ImportError(f"{_INSTALL} ({exc})") from exc
    return twilio


def redirecting_http_client(base_url: str, **kwargs: Any) -> Any:
    """A `TwilioHttpClient` that sends every request to `base_url`."""
    _twilio()
    from twilio.http.http_client import TwilioHttpClient

    class RedirectHttpClient(TwilioHttpClient):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(**kwargs)
            self.base_url = base_url.rstrip("/")

        def request(self, method: str, url: str, *args: Any, **options: Any) -> Any:
            return super().request(method, redirect_url(url, self.base_url), *args, **options)

    return RedirectHttpClient()


def async_redirecting_http_client(base_url: str, **kwargs: Any) -> Any:
    """An `AsyncTwilioHttpClient` (aiohttp) that sends every request to `base_url`.

    By default it opens an aiohttp session per request (`pool_connections=False`), so it
    can be made outside a coroutine and needs no closing; pass `pool_connections=True`
    inside a coroutine, and `await client.close()`, for a pooled session.
    """
    _twilio()
    from twilio.http.async_http_client import AsyncTwilioHttpClient

    kwargs.setdefault("pool_connections", False)

    class AsyncRedirectHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(**kwargs)
            self.base_url = base_url.rstrip("/")

        async def request(
            self,
            method: str,
            url: str,
            params: Any = None,
            data: Any = None,
            headers: dict[str, str] | None = None,
            auth: tuple[str, str] | None = None,
            **options: Any,
        ) -> Any:
            # Basic credentials as a header: aiohttp deprecates the BasicAuth the SDK makes.
            headers = dict(headers or {})
            if auth is not None:
                pair = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
                headers["Authorization"] = f"Basic {pair}"
            redirected = redirect_url(url, self.base_url)
            return await super().request(method, redirected, params, data, headers, None, **options)

    return AsyncRedirectHttpClient()


def fleetsim_client(url: str, account_sid: str, auth_token: str, **kwargs: Any) -> Client:
    """A `twilio.rest.Client` whose requests all go to the fleetsim server at `url`.

    `kwargs` go to `Client` (e.g. `account_sid=` of a subaccount with API key credentials).
    """
    twilio = _twilio()
    client: Client = twilio.rest.Client(
        account_sid, auth_token, http_client=redirecting_http_client(url), **kwargs
    )
    return client


def async_fleetsim_client(url: str, account_sid: str, auth_token: str, **kwargs: Any) -> Client:
    """A `twilio.rest.Client` on the async HTTP client: call the `*_async` methods
    (`await client.supersim.v1.fleets.list_async()`)."""
    twilio = _twilio()
    client: Client = twilio.rest.Client(
        account_sid, auth_token, http_client=async_redirecting_http_client(url), **kwargs
    )
    return client
