"""How webhooks leave the building: one method, so tests and deployments can swap it.

The HTTP transport never follows redirects (a redirect is a failed delivery: the receiver
should give the final URL) and reads at most `max_body` bytes of a response.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import httpx2

__all__ = ["HttpResult", "HttpTransport", "WebhookTransport"]


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None
    latency_ms: int
    error: str | None = None
    body_excerpt: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookTransport(Protocol):
    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> HttpResult: ...


class HttpTransport:
    def __init__(self, *, timeout_seconds: float = 5.0, max_body: int = 64 * 1024) -> None:
        self._client = httpx2.Client(
            timeout=httpx2.Timeout(timeout_seconds, connect=min(timeout_seconds, 3.0)),
            follow_redirects=False,
        )
        self._max_body = max_body

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> HttpResult:
        started = time.perf_counter()
        try:
            with self._client.stream(method, url, headers=headers, content=body) as response:
                excerpt = bytearray()
                for chunk in response.iter_bytes():
                    excerpt += chunk
                    if len(excerpt) >= self._max_body:
                        break
                return HttpResult(
                    status_code=response.status_code,
                    latency_ms=_elapsed_ms(started),
                    body_excerpt=bytes(excerpt[:2000]).decode("utf-8", "replace"),
                )
        except httpx2.HTTPError as exc:
            return HttpResult(None, _elapsed_ms(started), error=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._client.close()


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
