"""The real-UDP bridge: IP Commands as real datagrams on this machine.

A device bound to a UDP endpoint (`POST /devices/{Sim}/udp-binding`, loopback only)
receives its mobile-terminated IP Commands there as real datagrams, sent from the bridge's
socket; a datagram the endpoint sends back to the bridge's address becomes a
mobile-originated IP Command of that device, with the endpoint's port as `device_port`,
exactly as if the device had sent it through the device API (the same service function, in
a unit of work of its own). Datagrams from senders no device is bound to are ignored (and
logged), as are those of a device that is not attached.

One bridge per server process (`fleetsim serve --udp-port`), bound to 127.0.0.1, with one
reader thread. Jobs that send run in that process too; a process without a bridge (a
separate `fleetsim worker`) sends from a throwaway socket, so replies to those datagrams
cannot reach fleetsim. With several server processes, a device may send to any of their
bridges: the binding is in the database.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass

from sqlalchemy import Engine

from fleetsim.core.clock import Clock
from fleetsim.core.errors import TwilioError
from fleetsim.core.sids import SidFactory
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.ip_commands.service import receive_datagram

__all__ = ["LOOPBACK", "Datagram", "UdpBridge", "active_bridge", "send_datagram"]

log = logging.getLogger("fleetsim.udp")

LOOPBACK = "127.0.0.1"
_MAX_DATAGRAM = 65535
_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Datagram:
    host: str
    port: int
    data: bytes


class UdpBridge:
    """The process's UDP socket on 127.0.0.1, and the thread that reads it."""

    def __init__(self, engine: Engine, clock: Clock, sids: SidFactory, *, port: int = 0) -> None:
        self.engine = engine
        self.clock = clock
        self.sids = sids
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._socket is not None, "the bridge is not started"
        host, port = self._socket.getsockname()
        return str(host), int(port)

    def start(self) -> UdpBridge:
        """Bind the socket (OSError if the port is taken), start reading, and become the
        bridge this process sends from."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((LOOPBACK, self._requested_port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(_POLL_SECONDS)
        self._socket = sock
        self._thread = threading.Thread(target=self._loop, name="fleetsim-udp", daemon=True)
        self._thread.start()
        _set_active(self)
        return self

    def send(self, datagram: Datagram) -> None:
        assert self._socket is not None, "the bridge is not started"
        self._socket.sendto(datagram.data, (datagram.host, datagram.port))

    def stop(self) -> None:
        _clear_active(self)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()

    def _loop(self) -> None:
        assert self._socket is not None
        while not self._stop.is_set():
            try:
                data, (host, port) = self._socket.recvfrom(_MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError as exc:  # e.g. an ICMP error reported on some platforms
                if self._stop.is_set():
                    return
                log.debug("UDP socket error, still reading: %s", exc)
                continue
            self.received(data, str(host), int(port))

    def received(self, data: bytes, host: str, port: int) -> str | None:
        """Turn one datagram into an IP Command; its SID, or None when dropped."""
        try:
            with unit_of_work(self.engine, write=True) as session:
                command = receive_datagram(
                    session, host=host, port=port, data=data, now=self.clock.now(), sids=self.sids
                )
                sid = command.sid if command is not None else None
        except TwilioError as exc:
            log.info("datagram from %s:%s dropped: %s", host, port, exc.message)
            return None
        except Exception:
            log.exception("datagram from %s:%s could not be stored", host, port)
            return None
        if sid is None:
            log.info("datagram from %s:%s ignored: no device is bound there", host, port)
        return sid


_active: UdpBridge | None = None
_active_lock = threading.Lock()


def _set_active(bridge: UdpBridge) -> None:
    global _active
    with _active_lock:
        _active = bridge


def _clear_active(bridge: UdpBridge) -> None:
    global _active
    with _active_lock:
        if _active is bridge:
            _active = None


def active_bridge() -> UdpBridge | None:
    """The bridge of this process, while one runs."""
    with _active_lock:
        return _active


def send_datagram(datagram: Datagram) -> None:
    """Send from this process's bridge, or from a throwaway socket when there is none.
    UDP promises no delivery, so a failure is logged, not raised."""
    bridge = active_bridge()
    try:
        if bridge is not None:
            bridge.send(datagram)
            return
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(datagram.data, (datagram.host, datagram.port))
    except OSError as exc:
        log.warning("datagram to %s:%s not sent: %s", datagram.host, datagram.port, exc)
