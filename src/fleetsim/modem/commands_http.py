"""The SIM7080G's HTTP(S) client (SIMCom SIM7080 Series AT Command Manual, "AT Commands
for HTTP(S)"): `AT+SHCONF`, `AT+SHSSL`, `AT+CSSLCFG`, `AT+SHCONN`, `AT+SHSTATE?`,
`AT+SHCHEAD`, `AT+SHAHEAD`, `AT+SHCPARA`, `AT+SHPARA`, `AT+SHBOD`, `AT+SHREQ` (and its
`+SHREQ: "<method>",<status>,<length>` report), `AT+SHREAD` (`+SHREAD: <length>` and the
bytes), `AT+SHDISC`.

The modem makes the real request, from the machine it runs on, to destinations the
server's webhook destination policy allows (`FLEETSIM_WEBHOOK_DESTINATIONS` and
`FLEETSIM_WEBHOOK_ALLOW`, read by the modem as by `fleetsim serve`), and counts its bytes
as the Sim's data through the device API. It needs the data context (`AT+CNACT=0,1`) and
data that is not blocked.

Deviations: the bytes counted are those of the HTTP/1.1 request and response (request
line, headers, body; status line, headers, body), without TCP or TLS overhead;
`AT+SHCONN` checks the destination and does not hold a connection (each request opens
its own); TLS settings (`AT+CSSLCFG`, `AT+SHSSL`) are accepted and the system's
certificate store verifies HTTPS; a request that fails reports status 601 (SIMCom's
"network error"); a response is kept up to 64 KiB.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx2

from fleetsim.modem.commands_general import int_arg
from fleetsim.modem.commands_network import registration
from fleetsim.modem.commands_sockets import socket_state
from fleetsim.modem.device import DeviceApiError
from fleetsim.modem.parser import Command, Form
from fleetsim.modem.session import CmeError, Handler, Session
from fleetsim.webhooks.transport import (
    DESTINATIONS_ENV,
    WEBHOOK_ALLOW_ENV,
    DestinationPolicy,
    DestinationRefused,
    pinned_request,
)

__all__ = ["HANDLERS", "HttpState", "http_state", "policy_from_environment"]

METHODS = {1: "GET", 2: "PUT", 3: "POST", 4: "PATCH", 5: "HEAD"}
NETWORK_ERROR = 601
MAX_RESPONSE = 64 * 1024


def policy_from_environment() -> DestinationPolicy:
    """The webhook destination policy as `fleetsim serve` reads it from the environment."""
    return DestinationPolicy.parse(
        os.environ.get(DESTINATIONS_ENV, "any"), [os.environ.get(WEBHOOK_ALLOW_ENV, "")]
    )


@dataclass
class HttpState:
    """The HTTP client's settings, connection and last response."""

    config: dict[str, str] = field(default_factory=lambda: {"BODYLEN": "1024"})
    connected: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    response: bytes = b""


def http_state(session: Session) -> HttpState:
    """The session's HTTP client state (made at first use)."""
    state = session.extra.get("http")
    if not isinstance(state, HttpState):
        state = session.extra["http"] = HttpState()
    return state


def _usable(session: Session) -> bool:
    reg = registration(session)
    return reg.registered and socket_state(session).pdp_active and not reg.data_blocked


async def _shconf(session: Session, command: Command) -> None:
    state = http_state(session)
    if command.form is Form.READ:
        for name, value in sorted(state.config.items()):
            session.info(f"+SHCONF: {name}: {value}")
    elif command.form is Form.SET:
        name = (command.arg(0) or "").upper()
        if not name or command.arg(1) is None:
            raise CmeError(50)
        state.config[name] = command.arg(1) or ""
    elif command.form is not Form.TEST:
        raise CmeError(4)


async def _accepted(session: Session, command: Command) -> None:
    """TLS settings (`AT+CSSLCFG`, `AT+SHSSL`): accepted, with no effect."""


def _destination(session: Session) -> str:
    url = http_state(session).config.get("URL")
    if not url or not url.lower().startswith(("http://", "https://")):
        raise CmeError(3)
    return url.rstrip("/")


async def _shconn(session: Session, command: Command) -> None:
    if command.form is not Form.ACTION:
        raise CmeError(4)
    state = http_state(session)
    url = _destination(session)
    if not _usable(session):
        raise CmeError(3)
    policy = session.setup.http_policy
    if policy is not None and policy.destinations != "any":
        try:
            await asyncio.to_thread(pinned_request, policy, url, {})
        except DestinationRefused:
            raise CmeError(3) from None
    state.connected = True


async def _shstate(session: Session, command: Command) -> None:
    if command.form is Form.READ:
        session.info(f"+SHSTATE: {int(http_state(session).connected)}")
    elif command.form is not Form.TEST:
        raise CmeError(4)


async def _shdisc(session: Session, command: Command) -> None:
    http_state(session).connected = False


async def _shchead(session: Session, command: Command) -> None:
    http_state(session).headers.clear()


async def _shahead(session: Session, command: Command) -> None:
    if command.form is not Form.SET or command.arg(0) is None:
        raise CmeError(50)
    http_state(session).headers.append((command.arg(0) or "", command.arg(1) or ""))


async def _shcpara(session: Session, command: Command) -> None:
    state = http_state(session)
    state.params.clear()
    state.body = None


async def _shpara(session: Session, command: Command) -> None:
    if command.form is not Form.SET or command.arg(0) is None:
        raise CmeError(50)
    http_state(session).params.append((command.arg(0) or "", command.arg(1) or ""))


async def _shbod(session: Session, command: Command) -> None:
    """`AT+SHBOD=<length>,<timeout>` (`>`, then the bytes) or `AT+SHBOD="<body>",<length>`."""
    if command.form is not Form.SET:
        raise CmeError(4)
    state = http_state(session)
    limit = int(state.config.get("BODYLEN", "1024") or 1024)
    first = command.arg(0) or ""
    if first.isdigit():
        length = int_arg(command, 0, 1, limit)

        async def take(data: bytes | None) -> None:
            if data is not None:
                state.body = data

        session.prompt(take, length=length)
        return
    body = first.encode("latin-1")
    if len(body) > limit:
        raise CmeError(50)
    state.body = body


def _message_size(start_line: str, headers: list[tuple[str, str]], body: bytes) -> int:
    return len(start_line) + 2 + sum(len(k) + len(v) + 4 for k, v in headers) + 2 + len(body)


def _request(
    policy: DestinationPolicy | None,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
) -> tuple[int, bytes, int, int]:
    """Make the request: status, body, bytes sent, bytes received (HTTP/1.1 sizes)."""
    sent_headers = dict(headers)
    extensions: dict[str, str] = {}
    if policy is not None and policy.destinations != "any":
        url, sent_headers, extensions = pinned_request(policy, url, sent_headers)
    with httpx2.Client(timeout=30.0, follow_redirects=False) as client:
        request = client.build_request(
            method, url, headers=sent_headers, content=body, extensions=extensions or None
        )
        response = client.send(request, stream=True)
        received = bytearray()
        try:
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) >= MAX_RESPONSE:
                    break
        finally:
            response.close()
        target = request.url.raw_path.decode("ascii")
        upload = _message_size(
            f"{method} {target} HTTP/1.1", list(request.headers.items()), body or b""
        )
        status_line = f"HTTP/1.1 {response.status_code} {response.reason_phrase}"
        download = _message_size(status_line, list(response.headers.items()), bytes(received))
        return response.status_code, bytes(received[:MAX_RESPONSE]), upload, download


async def _shreq(session: Session, command: Command) -> None:
    """`AT+SHREQ="<path>",<type>`: OK, then `+SHREQ: "<method>",<status>,<length>`."""
    if command.form is Form.TEST:
        session.info('+SHREQ: "url",(1-5)')
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    state = http_state(session)
    path = command.arg(0) or "/"
    method = METHODS.get(int_arg(command, 1, 1, 5), "GET")
    if not state.connected or not _usable(session):
        raise CmeError(3)
    base = _destination(session)
    url = (
        path if path.lower().startswith(("http://", "https://")) else base + "/" + path.lstrip("/")
    )
    body = state.body
    if body is None and state.params:
        if method == "GET":
            url += ("&" if "?" in url else "?") + urlencode(state.params)
        else:
            body = urlencode(state.params).encode()
    try:
        status, received, upload, download = await asyncio.to_thread(
            _request, session.setup.http_policy, method, url, state.headers, body
        )
    except (httpx2.HTTPError, DestinationRefused, ValueError):
        state.response = b""
        session.urc(f'+SHREQ: "{method}",{NETWORK_ERROR},0')
        return
    with contextlib.suppress(DeviceApiError):
        await session.api(
            session.device_api.use_data, session.sim, upload=upload, download=download
        )
    state.response = received
    session.urc(f'+SHREQ: "{method}",{status},{len(received)}')


async def _shread(session: Session, command: Command) -> None:
    """`AT+SHREAD=<start>,<length>`: OK, then `+SHREAD: <n>` and the bytes."""
    if command.form is not Form.SET:
        raise CmeError(4)
    state = http_state(session)
    start = int_arg(command, 0, 0, MAX_RESPONSE)
    length = int_arg(command, 1, 1, MAX_RESPONSE)
    if start >= len(state.response):
        raise CmeError(3)
    data = state.response[start : start + length]
    session.urc(f"+SHREAD: {len(data)}\r\n{data.decode('latin-1')}")


HANDLERS: dict[str, Handler] = {
    "+SHCONF": _shconf,
    "+SHSSL": _accepted,
    "+CSSLCFG": _accepted,
    "+CASSLCFG": _accepted,
    "+SHCONN": _shconn,
    "+SHSTATE": _shstate,
    "+SHDISC": _shdisc,
    "+SHCHEAD": _shchead,
    "+SHAHEAD": _shahead,
    "+SHCPARA": _shcpara,
    "+SHPARA": _shpara,
    "+SHBOD": _shbod,
    "+SHREQ": _shreq,
    "+SHREAD": _shread,
}
