"""The official `twilio` SDK pointed at fleetsim, as users do it (see README)."""

from __future__ import annotations

import re
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

__all__ = ["RedirectHttpClient", "sdk_client"]


class RedirectHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Send every request to `base_url`, whatever host the library computed."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(
            method, re.sub(r"^https?://[^/]+", self.base_url, url), *args, **kwargs
        )


def sdk_client(
    base_url: str, username: str, password: str, account_sid: str | None = None
) -> Client:
    return Client(
        username, password, account_sid=account_sid, http_client=RedirectHttpClient(base_url)
    )
