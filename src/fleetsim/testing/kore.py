"""A client written the way KORE documents its API, for testing applications that use it:
OAuth 2.0 client credentials, a Bearer token on every call, and a new token when a call
answers 401 (an expired or revoked token), retried once. It knows KORE's paths only, and
sends every host's requests (`api.korewireless.com`, `supersim.api.korewireless.com`,
`webhook.api.korewireless.com`, `client.api.korewireless.com`) to one fleetsim URL.

    with KoreClient(server.url, client_id, client_secret) as kore:
        sims = kore.get("/v1/Sims", params={"PageSize": 10}).json()
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import httpx2 as httpx

__all__ = ["TOKEN_PATH", "KoreAuth", "KoreClient"]

TOKEN_PATH = "/api-services/v1/auth/token"  # noqa: S105 - a path, not a secret


class KoreAuth(httpx.Auth):
    """Bearer tokens from KORE's token endpoint: fetched on first use, fetched again
    when a call answers 401, and the call retried once with the new token."""

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self.token_url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._lock = threading.Lock()
        self.access_token: str | None = None
        self.tokens_fetched = 0

    def _token_request(self) -> httpx.Request:
        return httpx.Request("POST", self.token_url, data=self._form)

    def _keep(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                f"token request refused: {response.status_code} {response.text}",
                request=response.request,
                response=response,
            )
        with self._lock:
            self.access_token = str(response.json()["access_token"])
            self.tokens_fetched += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.access_token is None:
            self._keep((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self.access_token}"
        response = yield request
        if response.status_code == 401:
            self._keep((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self.access_token}"
            yield request


class KoreClient(httpx.Client):
    """An HTTP client (httpx2) with `KoreAuth`, whose base URL is the fleetsim server."""

    def __init__(self, url: str, client_id: str, client_secret: str, **kwargs: Any) -> None:
        base = url.rstrip("/")
        kwargs.setdefault("timeout", 30.0)
        super().__init__(
            base_url=base, auth=KoreAuth(base + TOKEN_PATH, client_id, client_secret), **kwargs
        )

    @property
    def kore_auth(self) -> KoreAuth:
        auth = self.auth
        assert isinstance(auth, KoreAuth)
        return auth
