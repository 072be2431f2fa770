"""SMS in text mode (3GPP TS 27.005 §3): `+CMGF`, `+CNMI`, `+CPMS`, `+CMGS`, `+CMGR`,
`+CMGL`, `+CMGD`, and the `+CMTI` / `+CMT` reports.

The message store is the device's inbox on the server: a message's index is its index
there (`GET /devices/{Sim}/inbox`), so `+CMTI: "SM",<index>`, `AT+CMGR=<index>` and
`AT+CMGD=<index>` name the same message, and deleting it deletes it from the inbox. An
SMS sent with `AT+CMGS="000"` is the device API's SMS to 000: an SMS Command from the Sim.

Power-on defaults as the SIM7080G's: `+CMGF: 0` (PDU mode; firmware sends `AT+CMGF=1`),
`+CNMI: 2,1,0,0,0` (new messages reported with `+CMTI`).

Deviations: indexes are the inbox's (they grow, and are not slots 0..N of a SIM store);
read/unread is kept by the modem session, so after a power-on every stored message reads
as `REC UNREAD`; PDU mode is not implemented (`+CMS ERROR: 303`); the sender of an SMS
Command is shown as "000".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleetsim.modem.commands_general import int_arg
from fleetsim.modem.commands_network import registration
from fleetsim.modem.device import DeviceApiError
from fleetsim.modem.parser import Command, Form
from fleetsim.modem.session import CmeError, CmsError, Handler, Session

__all__ = ["HANDLERS", "SmsState", "poll_inbox", "sms_state"]

SENDER = "000"
STORE_SIZE = 50  # what +CPMS reports as the store's size (grows with the inbox)
STATUSES = ("REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL")


@dataclass
class SmsState:
    """The SMS settings of the session and what it has seen and read of the inbox."""

    text_mode: bool = False
    cnmi: list[int] = field(default_factory=lambda: [2, 1, 0, 0, 0])
    cursor: int | None = None  # the last inbox index seen
    read: set[int] = field(default_factory=set)
    reference: int = 0


def sms_state(session: Session) -> SmsState:
    """The session's SMS state (made at first use)."""
    state = session.extra.get("sms")
    if not isinstance(state, SmsState):
        state = session.extra["sms"] = SmsState()
    return state


def _timestamp(received_at: str) -> str:
    """27.005's `"yy/MM/dd,hh:mm:ss±zz"` of an ISO 8601 UTC time."""
    date, time = received_at.rstrip("Z").split("T")
    return f"{date[2:].replace('-', '/')},{time[:8]}+00"


async def _messages(session: Session) -> list[dict[str, Any]]:
    inbox = await session.api(session.device_api.inbox, session.sim)
    return [m for m in inbox if m["kind"] == "sms"]


def _status(state: SmsState, message: dict[str, Any]) -> str:
    return "REC READ" if message["index"] in state.read else "REC UNREAD"


async def poll_inbox(session: Session) -> None:
    """Report SMS that arrived since the last look, as `+CNMI` asks; hand IP Commands to
    whoever listens for them (`session.extra["ip_listener"]`)."""
    state = sms_state(session)
    if state.cursor is None:  # power-on: what the store holds already is not new
        inbox = await session.api(session.device_api.inbox, session.sim)
        state.cursor = max((m["index"] for m in inbox), default=0)
        return
    arrived = await session.api(session.device_api.inbox, session.sim, after=state.cursor)
    for message in arrived:
        state.cursor = max(state.cursor, message["index"])
        if message["kind"] != "sms":
            listener = session.extra.get("ip_listener")
            if listener is not None:
                await listener(session, message)
            continue
        mt = state.cnmi[1]
        if mt == 1:
            session.urc(f'+CMTI: "SM",{message["index"]}')
        elif mt in (2, 3) and state.text_mode:
            state.read.add(message["index"])
            stamp = _timestamp(message["received_at"])
            session.urc(f'+CMT: "{SENDER}",,"{stamp}"\r\n{message["payload"]}')
        elif mt in (2, 3):
            session.urc(f'+CMTI: "SM",{message["index"]}')


def _text_mode(session: Session) -> SmsState:
    state = sms_state(session)
    if not state.text_mode:
        raise CmsError(303)
    return state


async def _cmgf(session: Session, command: Command) -> None:
    state = sms_state(session)
    if command.form is Form.READ:
        session.info(f"+CMGF: {int(state.text_mode)}")
    elif command.form is Form.TEST:
        session.info("+CMGF: (0,1)")
    elif command.form is Form.SET:
        state.text_mode = int_arg(command, 0, 0, 1, default=0) == 1
    else:
        raise CmeError(4)


async def _cnmi(session: Session, command: Command) -> None:
    state = sms_state(session)
    if command.form is Form.READ:
        session.info(f"+CNMI: {','.join(str(v) for v in state.cnmi)}")
    elif command.form is Form.TEST:
        session.info("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)")
    elif command.form is Form.SET:
        limits = [3, 3, 2, 2, 1]
        state.cnmi = [
            int_arg(command, i, 0, limits[i], default=state.cnmi[i]) for i in range(len(limits))
        ]
    else:
        raise CmeError(4)


async def _cpms(session: Session, command: Command) -> None:
    if command.form is Form.TEST:
        session.info('+CPMS: ("SM"),("SM"),("SM")')
        return
    used = len(await _messages(session))
    total = max(STORE_SIZE, used)
    if command.form is Form.READ:
        session.info(f'+CPMS: "SM",{used},{total},"SM",{used},{total},"SM",{used},{total}')
    elif command.form is Form.SET:
        if any(arg not in (None, "SM", "ME", "MT") for arg in command.args):
            raise CmsError(302)
        session.info(f"+CPMS: {used},{total},{used},{total},{used},{total}")
    else:
        raise CmeError(4)


async def _cmgs(session: Session, command: Command) -> None:
    if command.form is Form.TEST:
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    state = _text_mode(session)
    number = command.arg(0)
    if not number:
        raise CmsError(305)
    if not registration(session).registered:
        raise CmsError(331)

    async def send(text: bytes | None) -> None:
        if text is None:
            return  # ESC: nothing sent
        try:
            await session.api(
                session.device_api.send_sms, session.sim, text.decode("latin-1"), to=number
            )
        except DeviceApiError:
            raise CmsError(500) from None
        state.reference = (state.reference + 1) % 256
        session.info(f"+CMGS: {state.reference}")

    session.prompt(send)


async def _find(session: Session, command: Command) -> dict[str, Any]:
    index = command.arg(0)
    if index is None or not index.isdigit():
        raise CmsError(321)
    for message in await _messages(session):
        if message["index"] == int(index):
            return message
    raise CmsError(321)


async def _cmgr(session: Session, command: Command) -> None:
    if command.form is Form.TEST:
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    state = _text_mode(session)
    message = await _find(session, command)
    stamp = _timestamp(message["received_at"])
    session.info(f'+CMGR: "{_status(state, message)}","{SENDER}",,"{stamp}"')
    session.raw(f"{message['payload']}\r\n".encode("latin-1", "replace"))
    state.read.add(message["index"])


async def _cmgl(session: Session, command: Command) -> None:
    if command.form is Form.TEST:
        session.info(f"+CMGL: ({','.join(chr(34) + s + chr(34) for s in STATUSES)})")
        return
    state = _text_mode(session)
    wanted = (command.arg(0) if command.form is Form.SET else None) or "REC UNREAD"
    if wanted.upper() not in STATUSES:
        raise CmsError(302)
    for message in await _messages(session):
        status = _status(state, message)
        if wanted.upper() not in ("ALL", status):
            continue
        stamp = _timestamp(message["received_at"])
        session.info(f'+CMGL: {message["index"]},"{status}","{SENDER}",,"{stamp}"')
        session.raw(f"{message['payload']}\r\n".encode("latin-1", "replace"))
        state.read.add(message["index"])


async def _cmgd(session: Session, command: Command) -> None:
    state = sms_state(session)
    if command.form is Form.TEST:
        indexes = ",".join(str(m["index"]) for m in await _messages(session))
        session.info(f"+CMGD: ({indexes}),(0-4)")
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    flag = int_arg(command, 1, 0, 4, default=0)
    if flag == 0:
        doomed = [(await _find(session, command))["index"]]
    else:
        # 1: the read ones; 2, 3: also sent and unsent ones (none are stored); 4: all.
        doomed = [
            m["index"]
            for m in await _messages(session)
            if flag == 4 or _status(state, m) == "REC READ"
        ]
    for index in doomed:
        await session.api(session.device_api.delete_message, session.sim, index)
        state.read.discard(index)


HANDLERS: dict[str, Handler] = {
    "+CMGF": _cmgf,
    "+CNMI": _cnmi,
    "+CPMS": _cpms,
    "+CMGS": _cmgs,
    "+CMGR": _cmgr,
    "+CMGL": _cmgl,
    "+CMGD": _cmgd,
}
