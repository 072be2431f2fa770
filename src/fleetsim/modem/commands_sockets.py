"""The SIM7080G's application sockets (SIMCom SIM7080 Series AT Command Manual, "AT
Commands for TCP/UDP"): `AT+CNACT`, `AT+CACID`, `AT+CASERVER`, `AT+CAOPEN`,
`AT+CACFG="REMOTEADDR"`, `AT+CASEND` (with its `>` prompt), `AT+CARECV`, `AT+CACLOSE`,
`AT+CASTATE?`, and the reports `+APP PDP`, `+CANEW`, `+CADATAIND`, `+CASTATE`.

On a Super SIM a device reaches one address over UDP: 100.64.0.1, the network's, where a
datagram becomes an IP Command from the Sim (the device API's `udp`); an IP Command sent
to the Sim arrives from 100.64.0.1 at its `DevicePort`, for the socket listening there
(a UDP server) or bound there (a UDP client). Every byte sent or received is counted as
the Sim's data (the device API's `data`), and a Sim whose data is blocked has its
sockets closed (`+CASTATE: <cid>,0`) and new ones refused.

Chosen where the manual is silent or unavailable: `+CANEW: <cid>,<server cid>` names the
server's own cid (a UDP server reads every peer's datagrams on its cid, as Twilio's
Super SIM examples do with `AT+CARECV=0,…`); a client socket's local port is 50000 +
cid; only UDP is offered (TCP, and any other address than 100.64.0.1, answer
`+CAOPEN: <cid>,<error>` 1); the bytes counted are the payloads (no IP/UDP headers).
"""

from __future__ import annotations

import base64
import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fleetsim.modem.commands_general import int_arg
from fleetsim.modem.commands_network import registration
from fleetsim.modem.device import DeviceApiError
from fleetsim.modem.parser import Command, Form
from fleetsim.modem.session import CmeError, Handler, Session

__all__ = [
    "HANDLERS",
    "Socket",
    "SocketState",
    "close_all",
    "poll_sockets",
    "send_datagram",
    "socket_state",
]

NETWORK_ADDRESS = "100.64.0.1"
NETWORK_PORT = 6655  # where Super SIM devices send IP Commands, and whence they come
CIDS = range(13)
PDP_INDEXES = range(4)
CLIENT_PORT_BASE = 50000
MAX_SEND = 1460
NO_ADDRESS = ".".join("0" * 4)  # what +CNACT shows for an inactive context


@dataclass
class Socket:
    """An open UDP socket: its port, where it sends, the datagrams waiting to be read."""

    cid: int
    kind: str  # "server" or "client"
    local_port: int
    remote: tuple[str, int] | None = None
    received: deque[bytes] = field(default_factory=deque)
    peers: set[tuple[str, int]] = field(default_factory=set)


@dataclass
class SocketState:
    """The data context (AT+CNACT) and the open sockets."""

    pdp_active: bool = False
    cid: int = 0  # AT+CACID
    sockets: dict[int, Socket] = field(default_factory=dict)


def socket_state(session: Session) -> SocketState:
    """The session's sockets (made at first use, with the listener for IP Commands)."""
    state = session.extra.get("sockets")
    if not isinstance(state, SocketState):
        state = session.extra["sockets"] = SocketState()
        session.extra["ip_listener"] = _datagram_arrived
    return state


def _online(session: Session) -> bool:
    reg = registration(session)
    return reg.registered and socket_state(session).pdp_active


async def _count(session: Session, *, upload: int = 0, download: int = 0) -> None:
    """The bytes as the Sim's data use; a refusal (data blocked) is the poll's to act on."""
    if upload + download == 0:
        return
    with contextlib.suppress(DeviceApiError):
        await session.api(
            session.device_api.use_data, session.sim, upload=upload, download=download
        )


async def _datagram_arrived(session: Session, message: dict[str, Any]) -> None:
    """An IP Command reached the device: to the socket on its port, if one is open."""
    state = socket_state(session)
    if not _online(session):
        return
    target = next((s for s in state.sockets.values() if s.local_port == message["port"]), None)
    if target is None:
        return  # no socket there: the datagram is dropped, as a real stack would
    data = (
        base64.b64decode(message["payload"])
        if message["payload_type"] != "text"
        else (str(message["payload"]).encode())
    )
    await _count(session, download=len(data))
    target.received.append(data)
    peer = (NETWORK_ADDRESS, NETWORK_PORT)
    new_peer = target.kind == "server" and peer not in target.peers
    target.peers.add(peer)
    target.remote = target.remote or peer
    if _quectel(session):
        session.urc(f'+QIURC: "recv",{target.cid}')
        return
    if new_peer:
        session.urc(f"+CANEW: {target.cid},{target.cid}")
    session.urc(f"+CADATAIND: {target.cid}")


def _quectel(session: Session) -> bool:
    return session.setup.model.startswith("bg9")


async def send_datagram(
    session: Session, socket: Socket, target: tuple[str, int], data: bytes
) -> bool:
    """Send a datagram from the socket (an IP Command from the Sim) and count its bytes;
    whether the network took it."""
    if target[0] != NETWORK_ADDRESS or not _usable(session):
        return False  # nothing else is reachable over UDP
    payload = base64.b64encode(data).decode("ascii")
    try:
        await session.api(
            session.device_api.send_udp, session.sim, source_port=socket.local_port, payload=payload
        )
    except DeviceApiError:
        return False
    await _count(session, upload=len(data))
    return True


def close_all(session: Session, *, report: bool) -> None:
    """Close every socket, with the module's report for each when the network closed it."""
    state = socket_state(session)
    for cid in sorted(state.sockets):
        if report:
            session.urc(f'+QIURC: "closed",{cid}' if _quectel(session) else f"+CASTATE: {cid},0")
    state.sockets.clear()


async def poll_sockets(session: Session) -> None:
    """Close the sockets when the network stops carrying data (detached, data blocked)."""
    state = socket_state(session)
    reg = registration(session)
    if not reg.registered or reg.data_blocked:
        close_all(session, report=True)
    if not reg.registered and state.pdp_active:
        state.pdp_active = False
        session.urc('+QIURC: "pdpdeact",1' if _quectel(session) else "+APP PDP: 0,DEACTIVE")


async def _cnact(session: Session, command: Command) -> None:
    state = socket_state(session)
    reg = registration(session)
    if command.form is Form.READ:
        for index in PDP_INDEXES:
            active = index == 0 and _online(session)
            address = reg.ip if active and reg.ip else NO_ADDRESS
            session.info(f'+CNACT: {index},{1 if active else 0},"{address}"')
    elif command.form is Form.TEST:
        session.info('+CNACT: (0-3),(0-2),"APN"')
    elif command.form is Form.SET:
        index = int_arg(command, 0, 0, 3)
        action = int_arg(command, 1, 0, 2)
        if index != 0:
            raise CmeError(4)  # one data context on a Super SIM
        if action == 0:
            state.pdp_active = False
            close_all(session, report=False)
            session.urc("+APP PDP: 0,DEACTIVE")
            return
        if not reg.registered:
            raise CmeError(30)
        state.pdp_active = True
        session.urc("+APP PDP: 0,ACTIVE")
    else:
        raise CmeError(4)


async def _cacid(session: Session, command: Command) -> None:
    state = socket_state(session)
    if command.form is Form.READ:
        session.info(f"+CACID: {state.cid}")
    elif command.form is Form.SET:
        state.cid = int_arg(command, 0, CIDS.start, CIDS.stop - 1)
    elif command.form is not Form.TEST:
        raise CmeError(4)


def _udp(command: Command, position: int) -> bool:
    return (command.arg(position) or "").upper() == "UDP"


def _usable(session: Session) -> bool:
    return _online(session) and not registration(session).data_blocked


async def _caserver(session: Session, command: Command) -> None:
    """`AT+CASERVER=<cid>,<pdp index>,"UDP",<port>`: listen; `+CASERVER: <cid>,<result>`."""
    if command.form is Form.TEST:
        session.info('+CASERVER: (0-12),(0-3),("TCP","UDP"),(1-65535)')
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    state = socket_state(session)
    cid = int_arg(command, 0, CIDS.start, CIDS.stop - 1)
    int_arg(command, 1, 0, 3)
    port = int_arg(command, 3, 1, 65535)
    if cid in state.sockets:
        raise CmeError(3)
    if not _udp(command, 2) or not _usable(session):
        session.info(f"+CASERVER: {cid},1")
        return
    state.sockets[cid] = Socket(cid, "server", port)
    session.info(f"+CASERVER: {cid},0")


async def _caopen(session: Session, command: Command) -> None:
    """`AT+CAOPEN=<cid>,<pdp index>,"UDP","100.64.0.1",<port>`: `+CAOPEN: <cid>,<result>`."""
    if command.form is Form.TEST:
        session.info('+CAOPEN: (0-12),(0-3),("TCP","UDP"),"server",(1-65535)')
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    state = socket_state(session)
    cid = int_arg(command, 0, CIDS.start, CIDS.stop - 1)
    int_arg(command, 1, 0, 3)
    host = command.arg(3)
    port = int_arg(command, 4, 1, 65535)
    if cid in state.sockets:
        raise CmeError(3)
    if not _udp(command, 2) or host != NETWORK_ADDRESS or not _usable(session):
        session.info(f"+CAOPEN: {cid},1")
        return
    state.sockets[cid] = Socket(cid, "client", CLIENT_PORT_BASE + cid, (host, port))
    session.info(f"+CAOPEN: {cid},0")


async def _cacfg(session: Session, command: Command) -> None:
    """`AT+CACFG="REMOTEADDR",<cid>,<address>,<port>`: where a server socket sends.
    Other settings (timeouts, keep-alive) are accepted and have no effect."""
    if command.form is Form.TEST:
        session.info('+CACFG: "REMOTEADDR",(0-12),"address",(1-65535)')
        return
    if command.form is not Form.SET:
        if command.form is Form.READ:
            return
        raise CmeError(4)
    if (command.arg(0) or "").upper() != "REMOTEADDR":
        return
    socket = socket_state(session).sockets.get(int_arg(command, 1, 0, 12))
    if socket is None:
        raise CmeError(3)
    socket.remote = (command.arg(2) or "", int_arg(command, 3, 1, 65535))


async def _casend(session: Session, command: Command) -> None:
    """`AT+CASEND=<cid>,<length>[,<input time>]`: `>`, then exactly <length> bytes."""
    if command.form is Form.TEST:
        session.info(f"+CASEND: (0-12),(1-{MAX_SEND}),(1-65535)")
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    cid = int_arg(command, 0, CIDS.start, CIDS.stop - 1)
    length = int_arg(command, 1, 1, MAX_SEND)
    socket = socket_state(session).sockets.get(cid)
    if socket is None or socket.remote is None or not _usable(session):
        raise CmeError(3)
    remote = socket.remote

    async def send(data: bytes | None) -> None:
        if data is None:
            return
        if not await send_datagram(session, socket, remote, data):
            raise CmeError(3)
        session.urc(f"+CASEND: {cid},0,{len(data)}")

    session.prompt(send, length=length)


async def _carecv(session: Session, command: Command) -> None:
    """`AT+CARECV=<cid>,<length>`: `+CARECV: <n>,<data>` (the oldest datagram, cut to
    <length>), or `+CARECV: 0` when nothing waits."""
    if command.form is Form.TEST:
        session.info(f"+CARECV: (0-12),(1-{MAX_SEND})")
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    cid = int_arg(command, 0, CIDS.start, CIDS.stop - 1)
    length = int_arg(command, 1, 1, MAX_SEND)
    socket = socket_state(session).sockets.get(cid)
    if socket is None:
        raise CmeError(3)
    if not socket.received:
        session.info("+CARECV: 0")
        return
    data = socket.received.popleft()[:length]
    session.raw(f"\r\n+CARECV: {len(data)},".encode("latin-1") + data + b"\r\n")


async def _caclose(session: Session, command: Command) -> None:
    if command.form is Form.TEST:
        session.info("+CACLOSE: (0-12)")
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    cid = int_arg(command, 0, CIDS.start, CIDS.stop - 1)
    if socket_state(session).sockets.pop(cid, None) is None:
        raise CmeError(3)


async def _castate(session: Session, command: Command) -> None:
    if command.form is Form.READ:
        for cid, socket in sorted(socket_state(session).sockets.items()):
            session.info(f"+CASTATE: {cid},{2 if socket.kind == 'server' else 1}")
    elif command.form is not Form.TEST:
        raise CmeError(4)


HANDLERS: dict[str, Handler] = {
    "+CNACT": _cnact,
    "+CACID": _cacid,
    "+CASERVER": _caserver,
    "+CAOPEN": _caopen,
    "+CACFG": _cacfg,
    "+CASEND": _casend,
    "+CARECV": _carecv,
    "+CACLOSE": _caclose,
    "+CASTATE": _castate,
}
