"""Network registration and packet domain (3GPP TS 27.007 §7, §10): `+CFUN`, `+CREG`,
`+CEREG`, `+CGREG`, `+COPS`, `+CSQ`, `+CGATT`, `+CGDCONT`, `+CGACT`, `+CGPADDR`.

Registration is the device API's attach: the server accepts it or says why not (a `new`
or `inactive` Sim, a network outside the Fleet's Network Access Profile), and the modem
reports `<stat>` 5 (registered, roaming: a Super SIM is always a visitor) or 3
(registration denied). As the SIM7080G does at power-on, the modem selects a network by
itself (`AT+COPS=0`): the first of the networks it can see. A denied automatic
registration is tried again when the Sim's status changes, or every `retry_interval`.

The modem polls the device's state, so a detach made elsewhere (the API, the console)
shows as a lost registration, reported when `+CREG`/`+CEREG`/`+CGREG` reports are on.

Chosen without a source: a refused attach answers `+CME ERROR: 107` ("GPRS services not
allowed": the Sim's status) or `111` ("PLMN not allowed": the network), mirroring the
EMM causes a network gives; `+CSQ` answers a fixed 20,99 while the radio is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import Any

from fleetsim.modem.commands_general import int_arg
from fleetsim.modem.device import DeviceApiError
from fleetsim.modem.parser import Command, Form
from fleetsim.modem.session import CME_TEXT, CmeError, Handler, Session

__all__ = ["HANDLERS", "Registration", "poll_registration", "registration"]

CME_TEXT.update({107: "GPRS services not allowed", 111: "PLMN not allowed"})
ROAMING, DENIED, SEARCHING, NOT_SEARCHING = 5, 3, 2, 0
ACT_EUTRAN = 7
REPORTS = ("+CREG", "+CEREG", "+CGREG")


@dataclass
class Registration:
    """The modem's view of its registration and packet-domain settings."""

    cfun: int = 1
    cops_mode: int = 0  # 0 automatic, 1 manual, 2 deregistered, 4 manual/automatic
    cops_format: int = 0
    manual: str | None = None  # MCCMNC chosen with AT+COPS=1
    ps_wanted: bool = True  # AT+CGATT=0 keeps the modem off the network
    stat: int = SEARCHING
    reports: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REPORTS, 0))
    networks: list[dict[str, Any]] = field(default_factory=list)
    network: dict[str, Any] | None = None
    ip: str | None = None
    sim_status: str | None = None
    data_blocked: bool = False
    tried_status: str | None = None
    tried_at: float = 0.0
    contexts: dict[int, tuple[str, str]] = field(default_factory=lambda: {1: ("IP", "super")})
    pdp_active: bool = True

    @property
    def registered(self) -> bool:
        return self.stat == ROAMING

    def mccmnc(self) -> str:
        if self.network is None or not self.network["identifiers"]:
            return ""
        first = self.network["identifiers"][0]
        return f"{first['mcc']}{first['mnc']}"


def registration(session: Session) -> Registration:
    """The session's registration state (made at first use)."""
    reg = session.extra.get("registration")
    if not isinstance(reg, Registration):
        reg = session.extra["registration"] = Registration()
    return reg


def _cell(reg: Registration) -> str:
    """`<tac>,<ci>,<AcT>`: made from the network's SID, stable for a network."""
    digest = hashlib.sha256(str(reg.network["sid"] if reg.network else "").encode()).hexdigest()
    return f'"{digest[:4].upper()}","{digest[4:12].upper()}",{ACT_EUTRAN}'


def _report(name: str, reg: Registration, *, read: bool) -> str:
    n = reg.reports[name]
    fields = [str(n)] if read else []
    fields.append(str(reg.stat))
    if n == 2 and reg.registered:
        fields.append(_cell(reg))
    return f"{name}: {','.join(fields)}"


def set_stat(session: Session, reg: Registration, stat: int) -> None:
    """Change the registration status, with the reports the modem has switched on."""
    if stat == reg.stat:
        return
    reg.stat = stat
    for name in REPORTS:
        if reg.reports[name]:
            session.urc(_report(name, reg, read=False))


async def _networks(session: Session, reg: Registration) -> list[dict[str, Any]]:
    reg.networks = await session.api(session.device_api.networks, session.sim)
    return reg.networks


async def _adopt(session: Session, reg: Registration, device: dict[str, Any]) -> None:
    """The device is attached: take its network and address."""
    if reg.network is None or reg.network["sid"] != device["network_sid"]:
        known = [n for n in reg.networks if n["sid"] == device["network_sid"]]
        if not known:
            known = [n for n in await _networks(session, reg) if n["sid"] == device["network_sid"]]
        reg.network = (
            known[0]
            if known
            else {
                "sid": device["network_sid"],
                "friendly_name": device["network_friendly_name"],
                "identifiers": [],
            }
        )
    reg.ip = device["ip_address"]
    reg.data_blocked = bool(device["data_blocked"])
    set_stat(session, reg, ROAMING)


def _refused(session: Session, reg: Registration) -> None:
    reg.network, reg.ip = None, None
    reg.tried_status = reg.sim_status
    reg.tried_at = asyncio.get_running_loop().time()
    set_stat(session, reg, DENIED)


async def _attach(session: Session, reg: Registration, **target: str) -> None:
    """Attach to a network; a refusal leaves the modem denied and raises +CME ERROR."""
    answer = await session.api(session.device_api.attach, session.sim, **target)
    reg.sim_status = answer["device"]["sim_status"]
    if answer["attached"]:
        await _adopt(session, reg, answer["device"])
        return
    _refused(session, reg)
    raise CmeError(111 if answer["rejection"]["code"] == 83702 else 107)


async def register_automatic(session: Session, reg: Registration) -> None:
    """Select the first network the device can see and attach to it."""
    networks = await _networks(session, reg)
    if not networks:
        _refused(session, reg)
        raise CmeError(111)
    await _attach(session, reg, network=networks[0]["sid"])


async def register_manual(session: Session, reg: Registration, mccmnc: str) -> None:
    """Attach to the network with this MCC and MNC (AT+COPS=1,2,"MCCMNC")."""
    if not (mccmnc.isdigit() and len(mccmnc) in (5, 6)):
        raise CmeError(50)
    if reg.registered and reg.mccmnc() != mccmnc:
        # Leave the current network first, as a module does when told to select another.
        await session.api(session.device_api.detach, session.sim)
    try:
        await _attach(session, reg, mcc=mccmnc[:3], mnc=mccmnc[3:])
    except DeviceApiError:  # no network has that MCC/MNC
        _refused(session, reg)
        raise CmeError(111) from None


async def _register(session: Session, reg: Registration) -> None:
    if reg.cops_mode == 1 and reg.manual:
        await register_manual(session, reg, reg.manual)
    else:
        await register_automatic(session, reg)


async def deregister(session: Session, reg: Registration) -> None:
    """Leave the network (the device API's detach)."""
    await session.api(session.device_api.detach, session.sim)
    reg.network, reg.ip = None, None
    set_stat(session, reg, NOT_SEARCHING)


def _wants_network(reg: Registration) -> bool:
    return reg.cfun == 1 and reg.cops_mode != 2 and reg.ps_wanted


async def poll_registration(session: Session) -> None:
    """Follow the device's state; register when the modem wants to and may try again."""
    reg = registration(session)
    device = await session.api(session.device_api.state, session.sim)
    reg.sim_status = device["sim_status"]
    reg.data_blocked = bool(device["data_blocked"])
    if device["state"] == "attached":
        await _adopt(session, reg, device)
        return
    reg.network, reg.ip = None, None
    if not _wants_network(reg):
        set_stat(session, reg, NOT_SEARCHING)
        return
    if reg.stat == DENIED:
        waited = asyncio.get_running_loop().time() - reg.tried_at
        if reg.tried_status == reg.sim_status and waited < session.setup.retry_interval:
            return
    elif reg.stat != SEARCHING:
        set_stat(session, reg, SEARCHING)
    with contextlib.suppress(CmeError):  # reported as denied
        await _register(session, reg)


# -- the commands


def _reporting(name: str) -> Handler:
    async def handler(session: Session, command: Command) -> None:
        reg = registration(session)
        if command.form is Form.READ:
            session.info(_report(name, reg, read=True))
        elif command.form is Form.TEST:
            session.info(f"{name}: (0-2)")
        elif command.form is Form.SET:
            reg.reports[name] = int_arg(command, 0, 0, 2, default=0)
        else:
            raise CmeError(4)

    return handler


async def _cfun(session: Session, command: Command) -> None:
    reg = registration(session)
    if command.form is Form.READ:
        session.info(f"+CFUN: {reg.cfun}")
    elif command.form is Form.TEST:
        session.info("+CFUN: (0,1,4),(0,1)")
    elif command.form is Form.SET:
        fun = int_arg(command, 0, 0, 4)
        int_arg(command, 1, 0, 1, default=0)
        if fun not in (0, 1, 4):
            raise CmeError(50)
        reg.cfun = fun
        if fun != 1:
            await deregister(session, reg)
        else:
            set_stat(session, reg, SEARCHING if _wants_network(reg) else NOT_SEARCHING)
            session.wake()
    else:
        raise CmeError(4)


def _operator(network: dict[str, Any], fmt: int) -> str:
    if fmt == 2:
        first = network["identifiers"][0] if network["identifiers"] else None
        return f"{first['mcc']}{first['mnc']}" if first else ""
    name = str(network["friendly_name"])
    return name if fmt == 0 else name[:16]


async def _cops(session: Session, command: Command) -> None:
    reg = registration(session)
    if command.form is Form.READ:
        if reg.registered and reg.network is not None:
            oper = _operator(reg.network, reg.cops_format)
            session.info(f'+COPS: {reg.cops_mode},{reg.cops_format},"{oper}",{ACT_EUTRAN}')
        else:
            session.info(f"+COPS: {reg.cops_mode}")
        return
    if command.form is Form.TEST:
        listed = []
        for network in await _networks(session, reg):
            current = reg.network is not None and network["sid"] == reg.network["sid"]
            listed.append(
                f'({2 if current else 1},"{_operator(network, 0)}","{_operator(network, 1)}",'
                f'"{_operator(network, 2)}",{ACT_EUTRAN})'
            )
        session.info(f"+COPS: {','.join(listed)},,(0-4),(0-2)")
        return
    if command.form is not Form.SET:
        raise CmeError(4)
    mode = int_arg(command, 0, 0, 4)
    fmt = int_arg(command, 1, 0, 2, default=reg.cops_format)
    if mode == 3:
        reg.cops_format = fmt
        return
    if mode == 2:
        reg.cops_mode = 2
        await deregister(session, reg)
        return
    if reg.cfun != 1:
        raise CmeError(3)
    if mode == 0:
        reg.cops_mode, reg.manual = 0, None
        if not reg.registered:
            set_stat(session, reg, SEARCHING)
            # Automatic selection keeps trying; +CEREG says denied.
            with contextlib.suppress(CmeError):
                await register_automatic(session, reg)
        return
    chosen = command.arg(2)
    if chosen is None:
        raise CmeError(50)
    if fmt != 2:
        matches = [n for n in await _networks(session, reg) if _operator(n, fmt) == chosen]
        if not matches:
            raise CmeError(111)
        chosen = _operator(matches[0], 2)
    reg.cops_mode, reg.cops_format, reg.manual = 1, fmt, chosen
    try:
        await register_manual(session, reg, chosen)
    except CmeError:
        if mode != 4:
            raise
        reg.cops_mode, reg.manual = 0, None
        await register_automatic(session, reg)


async def _csq(session: Session, command: Command) -> None:
    if command.form is Form.TEST:
        session.info("+CSQ: (0-31,99),(0-7,99)")
    elif command.form is Form.ACTION:
        session.info("+CSQ: 20,99" if registration(session).cfun == 1 else "+CSQ: 99,99")
    else:
        raise CmeError(4)


async def _cgatt(session: Session, command: Command) -> None:
    reg = registration(session)
    if command.form is Form.READ:
        session.info(f"+CGATT: {1 if reg.registered else 0}")
    elif command.form is Form.TEST:
        session.info("+CGATT: (0,1)")
    elif command.form is Form.SET:
        state = int_arg(command, 0, 0, 1)
        reg.ps_wanted = state == 1
        if state == 0:
            await deregister(session, reg)
        elif not reg.registered:
            if reg.cfun != 1:
                raise CmeError(3)
            await _register(session, reg)
    else:
        raise CmeError(4)


async def _cgdcont(session: Session, command: Command) -> None:
    reg = registration(session)
    if command.form is Form.READ:
        for cid, (pdp_type, apn) in sorted(reg.contexts.items()):
            session.info(f'+CGDCONT: {cid},"{pdp_type}","{apn}","0.0.0.0",0,0,0,0')
    elif command.form is Form.TEST:
        session.info('+CGDCONT: (1-15),"IP",,,(0-2),(0-4),(0-1),(0-1)')
    elif command.form is Form.SET:
        cid = int_arg(command, 0, 1, 15)
        if len(command.args) == 1:
            reg.contexts.pop(cid, None)
            return
        pdp_type = (command.arg(1) or "IP").upper()
        if pdp_type not in ("IP", "IPV6", "IPV4V6", "NONIP"):
            raise CmeError(50)
        reg.contexts[cid] = (pdp_type, command.arg(2) or "")
    else:
        raise CmeError(4)


async def _cgact(session: Session, command: Command) -> None:
    reg = registration(session)
    if command.form is Form.READ:
        for cid in sorted(reg.contexts):
            active = reg.registered and reg.pdp_active and cid == 1
            session.info(f"+CGACT: {cid},{1 if active else 0}")
    elif command.form is Form.TEST:
        session.info("+CGACT: (0,1)")
    elif command.form is Form.SET:
        state = int_arg(command, 0, 0, 1)
        int_arg(command, 1, 1, 15, default=1)
        if state == 1 and not reg.registered:
            raise CmeError(30)
        reg.pdp_active = state == 1
    else:
        raise CmeError(4)


async def _cgpaddr(session: Session, command: Command) -> None:
    reg = registration(session)
    if command.form is Form.TEST:
        session.info(f"+CGPADDR: ({','.join(str(c) for c in sorted(reg.contexts))})")
        return
    wanted = [int_arg(command, 0, 1, 15)] if command.form is Form.SET else sorted(reg.contexts)
    for cid in wanted:
        if cid == 1 and reg.registered and reg.pdp_active and reg.ip:
            session.info(f'+CGPADDR: {cid},"{reg.ip}"')
        else:
            session.info(f"+CGPADDR: {cid}")


async def _cgnapn(session: Session, command: Command) -> None:
    """SIMCom's `AT+CGNAPN`: the APN the network gave, once registered."""
    if command.form is Form.TEST:
        return
    reg = registration(session)
    session.info('+CGNAPN: 1,"super"' if reg.registered else '+CGNAPN: 0,""')


async def _cpsi(session: Session, command: Command) -> None:
    """SIMCom's `AT+CPSI?`: the serving cell. Deviation: the band, channel and signal
    figures are fixed made-up values; the MCC-MNC and cell are the network's."""
    if command.form is Form.TEST:
        return
    reg = registration(session)
    if command.form is not Form.READ:
        raise CmeError(4)
    if not reg.registered or reg.network is None:
        session.info("+CPSI: NO SERVICE,Online" if reg.cfun == 1 else "+CPSI: NO SERVICE,Offline")
        return
    mccmnc = reg.mccmnc()
    tac, cell, _ = _cell(reg).split(",")
    session.info(
        f"+CPSI: LTE CAT-M1,Online,{mccmnc[:3]}-{mccmnc[3:]},0x{tac.strip(chr(34))},"
        f"{int(cell.strip(chr(34)), 16)},100,EUTRAN-BAND12,5110,3,3,-10,-95,-65,12"
    )


HANDLERS: dict[str, Handler] = {
    "+CGNAPN": _cgnapn,
    "+CPSI": _cpsi,
    "+CFUN": _cfun,
    **{name: _reporting(name) for name in REPORTS},
    "+COPS": _cops,
    "+CSQ": _csq,
    "+CGATT": _cgatt,
    "+CGDCONT": _cgdcont,
    "+CGACT": _cgact,
    "+CGPADDR": _cgpaddr,
}
