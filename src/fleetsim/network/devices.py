"""Devices: attach to a network, detach, keep an inbox.

Attach rules, as Twilio's network applies them: the Sim must be `ready` or `active`
(`new` is rejected with 83704, `inactive` with 83705), and the network must be in the
Network Access Profile of its Fleet (83702). A Sim that is `scheduled` is judged by the
status still in force. On attach the device gets its address in 100.64.0.0/10 and a data
session; work waiting for the device (jobs with subject `attach:<SimSid>`) falls due.

Deviation: a Fleet with data disabled rejects the attach with 83702 (fleetsim's device has
no data-less mode); Twilio's exact behaviour is unconfirmed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fleetsim.core.errors import InvalidParameter, MissingParameter, NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import find_by_ref
from fleetsim.db.store import Tx
from fleetsim.db.tables import (
    Account,
    Device,
    DeviceMessage,
    Fleet,
    Network,
    NetworkAccessProfileNetwork,
    NetworkIdentifier,
    Sim,
)
from fleetsim.engine.jobs import wake
from fleetsim.network.addressing import address_for
from fleetsim.network.events import record_event
from fleetsim.network.networks import find_network, with_identifiers

__all__ = [
    "AttachResult",
    "Rejection",
    "attach",
    "awaiting_attach",
    "delete_message",
    "detach",
    "detach_all",
    "device_of",
    "effective_status",
    "list_messages",
    "network_of",
    "receive_message",
    "visible_networks",
]


@dataclass(frozen=True)
class Rejection:
    code: int
    message: str


@dataclass(frozen=True)
class AttachResult:
    sim: Sim
    device: Device
    network: Network | None
    rejection: Rejection | None


def awaiting_attach(sim_sid: str) -> str:
    """The job subject of work that waits for this Sim's device to attach."""
    return f"attach:{sim_sid}"


def effective_status(sim: Sim) -> str:
    """The status in force: a `scheduled` Sim keeps its old status until the update ends."""
    return status_in_force(sim.status, sim.settled_status)


def status_in_force(status: str, settled_status: str | None) -> str:
    """`effective_status` of a Sim's two status columns."""
    return settled_status or status if status == "scheduled" else status


# The rules that follow a device's Sim read its Fleet (limits, enabled features).
_WITH_FLEET = joinedload(Sim.fleet)


def device_of(session: Session, account: Account, sim_ref: str) -> tuple[Sim, Device]:
    """The account's Sim (by SID or unique name) and its device; 404 otherwise."""
    # The network sits below the Sims resource, so it looks the Sim up through the one
    # account-scoped look-up every resource uses, not through the resource's service.
    sim = find_by_ref(session, Sim, account.id, sim_ref, Prefix.SIM, _WITH_FLEET)
    if sim is None:
        raise NotFound(f"/Sims/{sim_ref}")
    device = session.execute(select(Device).where(Device.sim_id == sim.id)).scalar_one()
    return sim, device


def _resolve_network(
    session: Session, network_sid: str | None, mcc: str | None, mnc: str | None
) -> Network:
    if network_sid is not None:
        network = find_network(session, network_sid)
        if network is None:
            raise InvalidParameter("Network", f"no Network has the SID '{network_sid}'")
        return network
    if mcc is None or mnc is None:
        raise MissingParameter("Network (or Mcc and Mnc)")
    network = session.execute(
        with_identifiers(
            select(Network)
            .join(NetworkIdentifier, NetworkIdentifier.network_id == Network.id)
            .where(NetworkIdentifier.mcc == mcc, NetworkIdentifier.mnc == mnc)
        )
    ).scalar_one_or_none()
    if network is None:
        raise InvalidParameter("Mnc", f"no network has MCC {mcc} and MNC {mnc}")
    return network


def _rejection(session: Session, sim: Sim, network: Network) -> Rejection | None:
    status = effective_status(sim)
    if status == "new":
        return Rejection(
            83704, "The Super SIM is new: set its Status to ready or active before attaching."
        )
    if status == "inactive":
        return Rejection(83705, "The Super SIM is inactive: set its Status to active first.")
    fleet = session.get(Fleet, sim.fleet_id) if sim.fleet_id else None
    if fleet is None:
        return Rejection(83702, "The Super SIM has no Fleet, so no network is allowed.")
    allowed = session.execute(
        select(NetworkAccessProfileNetwork.id).where(
            NetworkAccessProfileNetwork.network_access_profile_id
            == fleet.network_access_profile_id,
            NetworkAccessProfileNetwork.network_id == network.id,
        )
    ).first()
    if allowed is None:
        return Rejection(
            83702,
            f"Network {network.sid} ({network.friendly_name}, {network.iso_country}) is not in "
            "the Network Access Profile of the Super SIM's Fleet: add it to the profile.",
        )
    if not fleet.data_enabled:
        return Rejection(83702, "Data is disabled on the Super SIM's Fleet.")
    return None


def attach(
    session: Session,
    account: Account,
    sim_ref: str,
    *,
    network_sid: str | None,
    mcc: str | None,
    mnc: str | None,
    now: dt.datetime,
    sids: SidFactory,
) -> AttachResult:
    """Try to attach the Sim's device; a rejection is an outcome, not an error."""
    sim, device = device_of(session, account, sim_ref)
    network = _resolve_network(session, network_sid, mcc, mnc)
    rejection = _rejection(session, sim, network)
    if rejection is not None:
        record_event(
            session,
            name="attachment.rejected",
            sim=sim,
            device=device,
            network=network,
            now=now,
            sids=sids,
            extra={"error": {"code": rejection.code, "message": rejection.message}},
        )
        session.flush()
        return AttachResult(sim, device, network, rejection)
    if device.state == "attached":
        _end_session(session, sim, device, now=now, sids=sids)
    device.state = "attached"
    device.network_id = network.id
    device.ip_address = address_for(sim.id)
    device.attached_at = now
    device.data_session_sid = sids.new(Prefix.DATA_SESSION)
    device.session_started_at = now
    device.session_upload = device.session_download = 0
    record_event(
        session,
        name="attachment.accepted",
        sim=sim,
        device=device,
        network=network,
        now=now,
        sids=sids,
    )
    record_event(
        session,
        name="data-session.started",
        sim=sim,
        device=device,
        network=network,
        now=now,
        sids=sids,
    )
    wake(session, awaiting_attach(sim.sid), now=now)
    session.flush()
    return AttachResult(sim, device, network, None)


def _end_session(
    session: Session, sim: Sim, device: Device, *, now: dt.datetime, sids: SidFactory
) -> None:
    network = network_of(session, device)
    record_event(
        session,
        name="data-session.ended",
        sim=sim,
        device=device,
        network=network,
        now=now,
        sids=sids,
        extra={
            "data_session_end_time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data_session_data_upload": device.session_upload,
            "data_session_data_download": device.session_download,
            "data_session_data_total": device.session_upload + device.session_download,
        },
    )


def detach(
    session: Session, account: Account, sim_ref: str, *, now: dt.datetime, sids: SidFactory
) -> tuple[Sim, Device]:
    """Detach the device (ending its data session); detaching a detached device is a no-op."""
    sim, device = device_of(session, account, sim_ref)
    _detach(session, sim, device, now=now, sids=sids)
    session.flush()
    return sim, device


def detach_all(session: Session, account_id: int, *, now: dt.datetime, sids: SidFactory) -> None:
    """Detach every attached device of the account's Sims (it was suspended or closed)."""
    rows = session.execute(
        select(Sim, Device)
        .join(Device, Device.sim_id == Sim.id)
        .where(Sim.account_id == account_id, Device.state == "attached")
        .order_by(Sim.id)
    ).all()
    for sim, device in rows:
        _detach(session, sim, device, now=now, sids=sids)
    session.flush()


def _detach(
    session: Session, sim: Sim, device: Device, *, now: dt.datetime, sids: SidFactory
) -> None:
    if device.state == "attached":
        _end_session(session, sim, device, now=now, sids=sids)
    device.state = "detached"
    device.network_id = None
    device.ip_address = None
    device.attached_at = None
    device.data_session_sid = None
    device.session_started_at = None


def receive_message(
    tx: Tx,
    device_id: int,
    *,
    kind: str,
    command_sid: str,
    payload: str,
    now: dt.datetime,
    payload_type: str | None = None,
    port: int | None = None,
) -> None:
    """Put an SMS or IP Command the network delivered into the device's inbox."""
    message = {
        "device_id": device_id,
        "kind": kind,
        "command_sid": command_sid,
        "payload": payload,
        "payload_type": payload_type,
        "port": port,
        "received_at": now,
    }
    tx.insert_many(DeviceMessage, [message])


def list_messages(
    session: Session,
    account: Account,
    sim_ref: str,
    *,
    page: PageRequest,
    after: int | None = None,
) -> tuple[Sim, Page[DeviceMessage]]:
    """The device's inbox, oldest first; `after` keeps the messages after that index."""
    sim, device = device_of(session, account, sim_ref)
    query = select(DeviceMessage).where(DeviceMessage.device_id == device.id)
    if after is not None:
        query = query.where(DeviceMessage.id > after)
    return sim, fetch_page(session, query, DeviceMessage.id, page)


def delete_message(session: Session, account: Account, sim_ref: str, index: str) -> None:
    """The device deletes a message from its inbox (a modem's `AT+CMGD`); 404 if it has none
    with that index."""
    sim, device = device_of(session, account, sim_ref)
    message = (
        session.execute(
            select(DeviceMessage).where(
                DeviceMessage.device_id == device.id, DeviceMessage.id == int(index)
            )
        ).scalar_one_or_none()
        if index.isascii() and index.isdigit() and len(index) <= 18
        else None
    )
    if message is None:
        raise NotFound(f"/devices/{sim.sid}/inbox/{index}")
    session.delete(message)
    session.flush()


def visible_networks(session: Session, account: Account, sim_ref: str) -> list[Network]:
    """The networks the device can register on: those of its Fleet's Network Access Profile,
    in catalogue order (none without a Fleet).

    Deviation: a real modem also sees networks it may not use; fleetsim's device sees only
    its profile's, so `AT+COPS=?` lists those.
    """
    sim, _ = device_of(session, account, sim_ref)
    fleet = session.get(Fleet, sim.fleet_id) if sim.fleet_id else None
    if fleet is None:
        return []
    query = with_identifiers(
        select(Network)
        .join(
            NetworkAccessProfileNetwork,
            NetworkAccessProfileNetwork.network_id == Network.id,
        )
        .where(
            NetworkAccessProfileNetwork.network_access_profile_id == fleet.network_access_profile_id
        )
        .order_by(Network.id)
    )
    return list(session.execute(query).scalars())


def network_of(session: Session, device: Device) -> Network | None:
    if device.network_id is None:
        return None
    return session.execute(
        with_identifiers(select(Network).where(Network.id == device.network_id))
    ).scalar_one_or_none()
