"""IP Commands: UDP datagrams between your application and a Super SIM's device.

Mobile-terminated (`to_sim`): `create_ip_command` stores the command `queued` and schedules
its delivery (see `delivery`), due by the `ip_command` progression policy. Mobile-originated
(`from_sim`): a device sends a datagram to the network's address (`COMMANDS_ADDRESS`),
through the device API or, for a device bound to a real UDP endpoint, through the UDP
bridge (`udp`); both reach `receive_ip_command`, which stores the command `received` and
calls the Fleet's `ip_commands_url`.

Deviations (Twilio's answers are unconfirmed):
- a Sim that is not `ready` or `active`, or whose Fleet has data disabled, is refused at
  creation with 400/20001 naming `Sim` (Twilio documents the prerequisite, not the error);
- a `Sim` that does not resolve (including another account's) answers 404/83005;
- an empty `Payload` is refused (400/20001);
- a mobile-originated payload longer than 1300 bytes keeps its first 1300 bytes (Twilio
  says such datagrams "may be fragmented or truncated");
- data carried by IP Commands is not counted toward the Sim's usage or data limit.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fleetsim.core.errors import (
    BadRequest,
    InvalidParameter,
    MissingParameter,
    NotFound,
    SimNotFound,
)
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import find_by_sid, owned
from fleetsim.db.store import Tx, detached
from fleetsim.db.tables import Account, Device, Fleet, IpCommand, Job, Sim
from fleetsim.engine.jobs import job_values
from fleetsim.engine.policies import due_at
from fleetsim.network.devices import device_of, status_in_force
from fleetsim.resources.sims.lifecycle import CONNECTED
from fleetsim.resources.sims.service import find_sim
from fleetsim.resources.sims.store import SIM_AND_FLEET
from fleetsim.webhooks.service import enqueue_webhook

__all__ = [
    "DELIVER",
    "MAX_PAYLOAD_BYTES",
    "NewIpCommand",
    "bind_udp",
    "callback_params",
    "create_ip_command",
    "datagram_of",
    "fetch_ip_command",
    "list_ip_commands",
    "receive_datagram",
    "receive_ip_command",
    "send_from_device",
    "unbind_udp",
]

DELIVER = "ip_command.deliver"
MAX_PAYLOAD_BYTES = 1300
PAYLOAD_TYPES = ("text", "binary")
_WITH_SIM = joinedload(IpCommand.sim)
# Standard Base64, padded: what Twilio's `binary` payloads are.
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


@dataclass(frozen=True)
class NewIpCommand:
    sim: str
    payload: str
    device_port: int
    payload_type: str = "text"
    callback_url: str | None = None
    callback_method: str = "POST"


def datagram_of(payload: str, payload_type: str) -> bytes:
    """The bytes a payload stands for: UTF-8 of `text`, decoded Base64 of `binary`."""
    if payload_type == "binary":
        if not _BASE64.match(payload):
            raise InvalidParameter("Payload", "must be valid Base64 when PayloadType is binary")
        return base64.b64decode(payload)
    return payload.encode("utf-8")


def _check_port(name: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise InvalidParameter(name, "must be a port number from 1 to 65535")


# The columns a command's checks read of its Sim (`s`) and the Sim's Fleet (`f`).
_SIM_COLUMNS = "s.id, s.sid, s.iccid, s.status, s.settled_status, f.id, f.data_enabled"


def _ready_sim(tx: Tx, account: Account, ref: str) -> Sim:
    """The account's Sim (its id, SID and ICCID), able to receive IP Commands now."""
    found = tx.by_ref(SIM_AND_FLEET, _SIM_COLUMNS, account.id, ref, Prefix.SIM, alias="s")
    if found is None:
        raise SimNotFound(ref)
    sim_id, sid, iccid, status, settled_status, fleet_id, data_enabled = found
    in_force = status_in_force(status, settled_status)
    if in_force not in CONNECTED:
        raise InvalidParameter(
            "Sim", f"the Super SIM is {in_force}: it must be ready or active to receive IP Commands"
        )
    if fleet_id is None or not data_enabled:
        raise InvalidParameter(
            "Sim", "data is disabled on the Super SIM's Fleet, and IP Commands travel as data"
        )
    return detached(Sim, {"id": sim_id, "sid": sid, "iccid": iccid})


def create_ip_command(
    tx: Tx, account: Account, *, command: NewIpCommand, now: dt.datetime, sids: SidFactory
) -> IpCommand:
    """Queue a command to the Sim's device; a job sends it (or fails it) later."""
    if command.payload_type not in PAYLOAD_TYPES:
        raise InvalidParameter("PayloadType", "must be one of text, binary")
    if command.payload == "":
        raise InvalidParameter("Payload", "must not be empty")
    size = len(datagram_of(command.payload, command.payload_type))
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidParameter(
            "Payload", f"is {size} bytes; an IP Command carries at most {MAX_PAYLOAD_BYTES}"
        )
    _check_port("DevicePort", command.device_port)
    sim = _ready_sim(tx, account, command.sim)
    values = {
        "sid": sids.new(Prefix.IP_COMMAND),
        "account_id": account.id,
        "sim_id": sim.id,
        "sim": sim,
        "sim_iccid": sim.iccid,
        "payload": command.payload,
        "payload_type": command.payload_type,
        "device_ip": None,
        "device_port": command.device_port,
        "status": "queued",
        "direction": "to_sim",
        "callback_url": command.callback_url or None,
        "callback_method": command.callback_method or "POST",
        "date_created": now,
        "date_updated": now,
    }
    row = tx.insert(IpCommand, values)
    due = due_at(tx, "ip_command", now)
    job = job_values(DELIVER, {"ip_command_id": row.id}, due_at=due, now=now, subject=row.sid)
    tx.insert_id(Job, job)
    return row


def fetch_ip_command(session: Session, account: Account, sid: str) -> IpCommand:
    """The account's IP Command by its HG SID; 404 otherwise."""
    row = find_by_sid(session, IpCommand, account.id, sid, Prefix.IP_COMMAND, _WITH_SIM)
    if row is None:
        raise NotFound(f"/IpCommands/{sid}")
    return row


def list_ip_commands(
    session: Session,
    account: Account,
    *,
    sim: str | None,
    sim_iccid: str | None,
    status: str | None,
    direction: str | None,
    page: PageRequest,
) -> Page[IpCommand]:
    """The account's IP Commands, newest first; a Sim that does not resolve matches none."""
    query = owned(IpCommand, account.id).options(_WITH_SIM)
    if sim is not None:
        found = find_sim(session, account, sim)
        query = query.where(IpCommand.sim_id == (found.id if found else -1))
    if sim_iccid is not None:
        query = query.where(IpCommand.sim_iccid == sim_iccid)
    if status is not None:
        query = query.where(IpCommand.status == status)
    if direction is not None:
        query = query.where(IpCommand.direction == direction)
    return fetch_page(session, query, IpCommand.id, page, descending=True)


def callback_params(
    command: IpCommand, account_sid: str, *, error_code: int | None = None
) -> list[tuple[str, str]]:
    """The parameters of a command's callback and of the Fleet's webhook.

    Deviation: Twilio does not document them; these follow its naming elsewhere."""
    params = [
        ("IpCommandSid", command.sid),
        ("AccountSid", account_sid),
        ("SimSid", command.sim.sid),
        ("SimIccid", command.sim_iccid),
        ("Status", command.status),
        ("Direction", command.direction),
        ("DeviceIp", command.device_ip or ""),
        ("DevicePort", str(command.device_port)),
        ("PayloadType", command.payload_type),
        ("Payload", command.payload),
    ]
    if error_code is not None:
        params.append(("ErrorCode", str(error_code)))
    return params


# --- the device side: datagrams a device sends, and its real UDP endpoint ------------------


def receive_ip_command(
    session: Session,
    sim: Sim,
    device: Device,
    *,
    data: bytes,
    source_port: int,
    now: dt.datetime,
    sids: SidFactory,
) -> IpCommand:
    """The network received a datagram from the Sim's device: store it `received` and call
    the Fleet's `ip_commands_url`."""
    if device.state != "attached" or device.ip_address is None:
        raise BadRequest(
            "The device is not attached to a network: attach it first "
            f"(POST /devices/{sim.sid}/attach), then send"
        )
    if device.data_blocked:
        raise BadRequest("The device's data is blocked by its Fleet's data limit")
    _check_port("SourcePort", source_port)
    account_sid = session.execute(
        select(Account.sid).where(Account.id == sim.account_id)
    ).scalar_one()
    command = IpCommand(
        sid=sids.new(Prefix.IP_COMMAND),
        account_id=sim.account_id,
        sim=sim,
        sim_iccid=sim.iccid,
        payload=base64.b64encode(data[:MAX_PAYLOAD_BYTES]).decode("ascii"),
        payload_type="binary",
        device_ip=device.ip_address,
        device_port=source_port,
        status="received",
        direction="from_sim",
        callback_url=None,
        callback_method=None,
        date_created=now,
        date_updated=now,
    )
    session.add(command)
    session.flush()
    fleet = session.get(Fleet, sim.fleet_id) if sim.fleet_id else None
    if fleet is not None and fleet.ip_commands_url:
        enqueue_webhook(
            Tx.of(session),
            sim.account_id,
            kind="ip_command.received",
            url=fleet.ip_commands_url,
            method=fleet.ip_commands_method or "POST",
            params=callback_params(command, account_sid),
            subject=command.sid,
            now=now,
        )
    return command


def send_from_device(
    session: Session,
    account: Account,
    sim_ref: str,
    *,
    source_port: int,
    payload: str | None,
    text: str | None,
    now: dt.datetime,
    sids: SidFactory,
) -> IpCommand:
    """The device sends a datagram (Base64 `payload` or UTF-8 `text`) to the network."""
    if payload is None and text is None:
        raise MissingParameter("Payload (or Text)")
    if payload is not None and text is not None:
        raise BadRequest("Give either Payload (Base64) or Text, not both")
    data = datagram_of(payload, "binary") if payload is not None else (text or "").encode()
    sim, device = device_of(session, account, sim_ref)
    return receive_ip_command(
        session, sim, device, data=data, source_port=source_port, now=now, sids=sids
    )


def receive_datagram(
    session: Session, *, host: str, port: int, data: bytes, now: dt.datetime, sids: SidFactory
) -> IpCommand | None:
    """A real datagram from `host:port`: an IP Command from the device bound there, or
    None when no device is."""
    device = session.execute(
        select(Device).where(Device.udp_host == host, Device.udp_port == port).limit(1)
    ).scalar_one_or_none()
    if device is None:
        return None
    sim = session.execute(
        select(Sim).where(Sim.id == device.sim_id).options(joinedload(Sim.fleet))
    ).scalar_one()
    return receive_ip_command(session, sim, device, data=data, source_port=port, now=now, sids=sids)


def bind_udp(
    session: Session,
    account: Account,
    sim_ref: str,
    *,
    host: str,
    port: int,
    reserved: tuple[str, int] | None,
) -> tuple[Sim, Device]:
    """Give the device a real UDP endpoint on this machine: its IP Commands are sent there,
    and datagrams from there become its IP Commands. `reserved` is the bridge's own."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise InvalidParameter("Host", "must be an IPv4 address such as 127.0.0.1") from None
    if address.version != 4 or not address.is_loopback:
        raise InvalidParameter("Host", "must be a loopback address (127.0.0.0/8)")
    _check_port("Port", port)
    host = str(address)
    if reserved is not None and (host, port) == reserved:
        raise InvalidParameter("Port", f"{host}:{port} is the network's own UDP address")
    sim, device = device_of(session, account, sim_ref)
    taken = session.execute(
        select(Device.id).where(
            Device.udp_host == host, Device.udp_port == port, Device.id != device.id
        )
    ).first()
    if taken is not None:
        raise InvalidParameter("Port", f"another device is bound to {host}:{port}")
    device.udp_host, device.udp_port = host, port
    session.flush()
    return sim, device


def unbind_udp(session: Session, account: Account, sim_ref: str) -> tuple[Sim, Device]:
    """Forget the device's UDP endpoint; unbinding an unbound device changes nothing."""
    sim, device = device_of(session, account, sim_ref)
    device.udp_host = device.udp_port = None
    session.flush()
    return sim, device
