"""How webhooks leave the building: one method, so tests and deployments can swap it.

The HTTP transport never follows redirects (a redirect is a failed delivery: the receiver
should give the final URL, and no other host is ever reached) and reads at most
`max_body` bytes of a response.

Where webhooks may go is a `DestinationPolicy`: by default anywhere. A shared deployment
refuses private destinations (`--webhook-destinations public`): the host is resolved at
delivery time, every address it resolves to must be public (or in `--webhook-allow`),
and the request goes to the address that was checked (the Host header and TLS name stay
the URL's), so a DNS answer cannot change between the check and the connection.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx2

__all__ = [
    "DESTINATIONS_ENV",
    "WEBHOOK_ALLOW_ENV",
    "DestinationPolicy",
    "DestinationRefused",
    "HttpResult",
    "HttpTransport",
    "WebhookTransport",
    "pinned_request",
]

DESTINATIONS_ENV = "FLEETSIM_WEBHOOK_DESTINATIONS"
WEBHOOK_ALLOW_ENV = "FLEETSIM_WEBHOOK_ALLOW"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationRefused(Exception):
    pass


@dataclass(frozen=True)
class DestinationPolicy:
    """`any`: webhooks go anywhere. `public`: only to public addresses, and to the
    networks in `allowed` (e.g. a receiver on the operator's own private network)."""

    destinations: Literal["any", "public"] = "any"
    allowed: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, destinations: str, allowed: Iterable[str] = ()) -> DestinationPolicy:
        if destinations not in ("any", "public"):
            raise ValueError(
                f"webhook destinations must be 'any' or 'public', not {destinations!r}"
            )
        networks = []
        for text in allowed:
            for part in text.replace(",", " ").split():
                try:
                    networks.append(ipaddress.ip_network(part, strict=False))
                except ValueError:
                    raise ValueError(f"not an address or network (CIDR): {part!r}") from None
        return cls("public" if destinations == "public" else "any", tuple(networks))

    def refusal(self, address: Address) -> str | None:
        """Why webhooks may not go to `address`; None when they may."""
        if self.destinations == "any" or any(address in net for net in self.allowed):
            return None
        mapped = getattr(address, "ipv4_mapped", None)
        checked = mapped or address
        if checked.is_global and not checked.is_multicast:
            return None
        return f"{address} is not a public address (webhook destinations: public)"

    def resolve(self, host: str, port: int) -> Address:
        """The address to connect to for `host`; DestinationRefused when any address it
        resolves to is refused, or it does not resolve."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise DestinationRefused(f"cannot resolve {host}: {exc}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                raise DestinationRefused(f"refused {host}: {reason}")
        # IPv4 first: hosts such as `localhost` often list ::1 first for a service that
        # listens on IPv4 only.
        return min(addresses, key=lambda address: address.version)


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
    def __init__(
        self,
        *,
        timeout_seconds: float = 5.0,
        max_body: int = 64 * 1024,
        policy: DestinationPolicy | None = None,
    ) -> None:
        self._client = httpx2.Client(
            timeout=httpx2.Timeout(timeout_seconds, connect=min(timeout_seconds, 3.0)),
            follow_redirects=False,
        )
        self._max_body = max_body
        self.policy = policy or DestinationPolicy()

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> HttpResult:
        started = time.perf_counter()
        extensions: dict[str, str] = {}
        if self.policy.destinations != "any":
            try:
                url, headers, extensions = self._pinned(url, headers)
            except DestinationRefused as exc:
                return HttpResult(None, _elapsed_ms(started), error=str(exc))
        try:
            with self._client.stream(
                method, url, headers=headers, content=body, extensions=extensions or None
            ) as response:
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

    def _pinned(
        self, url: str, headers: dict[str, str]
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        return pinned_request(self.policy, url, headers)

    def close(self) -> None:
        self._client.close()


def pinned_request(
    policy: DestinationPolicy, url: str, headers: dict[str, str]
) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request sent to the checked address of the URL's host: URL, headers and httpx
    extensions; DestinationRefused when the policy refuses the host."""
    parsed = httpx2.URL(url)
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    address = policy.resolve(host, port)
    pinned = str(parsed.copy_with(host=str(address)))
    netloc = parsed.netloc.decode("ascii")
    extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return pinned, {**headers, "Host": netloc}, extensions


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
