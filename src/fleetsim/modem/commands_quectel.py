"""The Quectel BG95/BG96 TCP/IP commands (Quectel BG96 TCP/IP AT Commands Manual):
`AT+QICSGP`, `AT+QIACT`, `AT+QIDEACT`, `AT+QIOPEN` (and its `+QIOPEN: <id>,<err>`
report), `AT+QISEND` (`>`, then `SEND OK`), `AT+QIRD`, `AT+QICLOSE`, `AT+QISTATE`, the
`+QIURC: "recv"|"closed"|"pdpdeact"` reports, `AT+QCCID`, and `AT+QCFG` (accepted).

The sockets are the same as the SIM7080G's (`commands_sockets`): UDP to and from
100.64.0.1 only, every byte counted as the Sim's data, closed when data is blocked. A
"UDP" socket sends from its `<local_port>` (or 50000 + its id); a "UDP SERVICE" listens
on its `<local_port>` and sends where `AT+QISEND=<id>,<len>,"<ip>",<port>` says.

Chosen without the manual at hand for every case: errors in `+QIOPEN` are 555 (operation
not supported: TCP, or another address), 561 (the context is not active), 563 (the
connection id is in use) and 570 (the network refuses data); `AT+QISTATE` shows state 2
(connected) for a UDP socket and 4 for a UDP service.
"""

from __future__ import annotations

from fleetsim.modem.commands_general import int_arg
from fleetsim.modem.commands_network import registration
from fleetsim.modem.commands_sockets import (
    CLIENT_PORT_BASE,
    MAX_SEND,
    NETWORK_ADDRESS,
    Socket,
    close_all,
    send_datagram,
    socket_state,
)
from fleetsim.modem.parser import Command, Form
from fleetsim.modem.session import CmeError, Handler, Session

__all__ = ["HANDLERS"]

IDS = range(12)


async def _qccid(session: Session, command: Command) -> None:
    if command.form is Form.TEST:
        return
    state = await session.api(session.device_api.state, session.sim)
    session.info(f"+QCCID: {state['iccid']}")


async def _accepted(session: Session, command: Command) -> None:
    """Settings with no effect here (`AT+QCFG`, `AT+QICSGP`)."""
    if command.form is Form.SET and command.name == "+QICSGP" and len(command.args) == 1:
        session.info(
            f'+QICSGP: 1,"{registration(session).contexts.get(1, ("IP", "super"))[1]}","","",1'
        )


async def _qiact(session: Session, command: Command) -> None:
    state = socket_state(session)
    reg = registration(session)
    if command.form is Form.READ:
        if state.pdp_active and reg.registered:
            session.info(f'+QIACT: 1,1,1,"{reg.ip}"')
    elif command.form is Form.TEST:
        session.info("+QIACT: (1-16)")
    elif command.form is Form.SET:
        int_arg(command, 0, 1, 16)
        if not reg.registered or reg.data_blocked:
            raise CmeError(3)
        state.pdp_active = True
    else:
        raise CmeError(4)


async def _qideact(session: Session, command: Command) -> None:
    if command.form is not Form.SET:
        raise CmeError(4)
    int_arg(command, 0, 1, 16)
    socket_state(session).pdp_active = False
    close_all(session, report=False)


async def _qiopen(session: Session, command: Command) -> None:
    """`AT+QIOPEN=<ctx>,<id>,"UDP"|"UDP SERVICE",<host>,<port>[,<local port>[,<mode>]]`:
    OK, then `+QIOPEN: <id>,<err>`."""
    if command.form is Form.TEST:
        session.info(
            '+QIOPEN: (1-16),(0-11),"TCP/UDP/TCP LISTENER/UDP SERVICE",'
            '"<IP_address>/<domain_name>",<remote_port>,<local_port>,(0-2)'
        )
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    state = socket_state(session)
    int_arg(command, 0, 1, 16)
    sid = int_arg(command, 1, IDS.start, IDS.stop - 1)
    service = (command.arg(2) or "").upper()
    host = command.arg(3) or ""
    port = int_arg(command, 4, 0, 65535)
    local = int_arg(command, 5, 0, 65535, default=0)
    int_arg(command, 6, 0, 2, default=0)
    if sid in state.sockets:
        error = 563
    elif service not in ("UDP", "UDP SERVICE") or (service == "UDP" and host != NETWORK_ADDRESS):
        error = 555
    elif not state.pdp_active or not registration(session).registered:
        error = 561
    elif registration(session).data_blocked:
        error = 570
    elif service == "UDP SERVICE" and not local:
        error = 552
    else:
        error = 0
        if service == "UDP":
            state.sockets[sid] = Socket(
                sid, "client", local or CLIENT_PORT_BASE + sid, (host, port)
            )
        else:
            state.sockets[sid] = Socket(sid, "server", local)
    session.urc(f"+QIOPEN: {sid},{error}")


async def _qisend(session: Session, command: Command) -> None:
    """`AT+QISEND=<id>[,<len>[,"<ip>",<port>]]`: `>`, the data, then `SEND OK`."""
    if command.form is Form.TEST:
        session.info(f"+QISEND: (0-11),(0-{MAX_SEND})")
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    sid = int_arg(command, 0, IDS.start, IDS.stop - 1)
    socket = socket_state(session).sockets.get(sid)
    if socket is None:
        raise CmeError(3)
    length = int_arg(command, 1, 1, MAX_SEND) if command.arg(1) is not None else None
    remote = socket.remote
    if command.arg(2) is not None:
        remote = (command.arg(2) or "", int_arg(command, 3, 1, 65535))
    if remote is None:
        raise CmeError(3)
    target = remote

    async def send(data: bytes | None) -> None:
        if data is None:
            return
        sent = await send_datagram(session, socket, target, data)
        session.final_result = "SEND OK" if sent else "SEND FAIL"

    session.prompt(send, length=length)


async def _qird(session: Session, command: Command) -> None:
    """`AT+QIRD=<id>[,<len>]`: `+QIRD: <n>` (with the peer for a UDP service), the data."""
    if command.form is not Form.SET:
        raise CmeError(4)
    sid = int_arg(command, 0, IDS.start, IDS.stop - 1)
    length = int_arg(command, 1, 0, 1500, default=1500)
    socket = socket_state(session).sockets.get(sid)
    if socket is None:
        raise CmeError(3)
    if not socket.received or length == 0:
        session.info("+QIRD: 0")
        return
    data = socket.received.popleft()[:length]
    peer = ""
    if socket.kind == "server" and socket.remote is not None:
        peer = f',"{socket.remote[0]}",{socket.remote[1]}'
    session.info(f"+QIRD: {len(data)}{peer}")
    session.raw(data + b"\r\n")


async def _qiclose(session: Session, command: Command) -> None:
    if command.form is not Form.SET:
        raise CmeError(4)
    sid = int_arg(command, 0, IDS.start, IDS.stop - 1)
    int_arg(command, 1, 0, 65535, default=10)
    socket_state(session).sockets.pop(sid, None)


async def _qistate(session: Session, command: Command) -> None:
    if command.form is Form.TEST:
        return
    for sid, socket in sorted(socket_state(session).sockets.items()):
        service = "UDP" if socket.kind == "client" else "UDP SERVICE"
        host, port = socket.remote or ("127.0.0.1", 0)
        status = 2 if socket.kind == "client" else 4
        where = f'"{host}",{port},{socket.local_port}'
        session.info(f'+QISTATE: {sid},"{service}",{where},{status},1,0,1,"uart1"')


HANDLERS: dict[str, Handler] = {
    "+QCCID": _qccid,
    "+QCFG": _accepted,
    "+QICSGP": _accepted,
    "+QIACT": _qiact,
    "+QIDEACT": _qideact,
    "+QIOPEN": _qiopen,
    "+QISEND": _qisend,
    "+QIRD": _qird,
    "+QICLOSE": _qiclose,
    "+QISTATE": _qistate,
}
