"""Connection events: what the network saw, as Twilio's Super SIM ConnectionEvent v2
CloudEvents, stored per account and delivered to the account's event sink.

Deviation: Twilio delivers these through Event Streams; fleetsim delivers each event as a
one-element JSON array of CloudEvents to the account's sink URL, signed as Twilio signs
JSON bodies (`bodySHA256` in the URL). The `error` object on rejected or failed events
(`{"code", "message"}`) is fleetsim's; Twilio's shape is unconfirmed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetsim.core.dates import iso
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, ConnectionEvent, Device, EventSink, Fleet, Network, Sim
from fleetsim.webhooks.service import enqueue_webhook

__all__ = ["EVENT_TYPES", "imsi_for", "list_events", "record_event", "set_event_sink"]

_PREFIX = "com.twilio.iot.supersim.connection."
EVENT_TYPES = frozenset(
    _PREFIX + name
    for name in (
        "attachment.accepted",
        "attachment.rejected",
        "attachment.failed",
        "data-session.started",
        "data-session.updated",
        "data-session.ended",
        "data-session.failed",
    )
)
DATASCHEMA = "https://events-schemas.twilio.com/SuperSim.ConnectionEvent/2"


def imsi_for(sim_id: int) -> str:
    return "20404" + f"{sim_id % 10**10:010d}"


def _network(network: Network | None) -> dict[str, Any] | None:
    if network is None:
        return None
    first = network.identifiers[0] if network.identifiers else None
    return {
        "mcc": first.mcc if first else None,
        "mnc": first.mnc if first else None,
        "sid": network.sid,
        "friendly_name": network.friendly_name,
        "iso_country": network.iso_country,
    }


def record_event(
    session: Session,
    *,
    name: str,
    sim: Sim,
    device: Device,
    network: Network | None,
    now: dt.datetime,
    sids: SidFactory,
    extra: dict[str, Any] | None = None,
) -> ConnectionEvent:
    """Store one event (`name` without the common prefix) and queue it to the sink."""
    event_type = _PREFIX + name
    assert event_type in EVENT_TYPES, event_type
    sid = sids.new(Prefix.CONNECTION_EVENT)
    account_sid = session.execute(
        select(Account.sid).where(Account.id == sim.account_id)
    ).scalar_one()
    fleet_sid = (
        session.execute(select(Fleet.sid).where(Fleet.id == sim.fleet_id)).scalar_one()
        if sim.fleet_id
        else None
    )
    data: dict[str, Any] = {
        "event_sid": sid,
        "event_type": event_type,
        "account_sid": account_sid,
        "sim_sid": sim.sid,
        "fleet_sid": fleet_sid,
        "sim_iccid": sim.iccid,
        "sim_unique_name": sim.unique_name,
        "timestamp": iso(now),
        "network": _network(network),
        "imei": device.imei,
        "imsi": imsi_for(sim.id),
        "rat_type": "4G LTE",
        "apn": "super",
        "ip_address": device.ip_address,
        "data_session_sid": device.data_session_sid,
        "data_session_start_time": (
            iso(device.session_started_at) if device.session_started_at else None
        ),
        **(extra or {}),
    }
    event = ConnectionEvent(
        sid=sid,
        account_id=sim.account_id,
        sim_id=sim.id,
        event_type=event_type,
        data=json.dumps(data, separators=(",", ":")),
        occurred_at=now,
    )
    session.add(event)
    sink = session.get(EventSink, sim.account_id)
    if sink is not None:
        cloud_event = {
            "specversion": "1.0",
            "type": event_type,
            "source": f"/v1/SuperSim/ConnectionEvents/{sid}",
            "id": sid,
            "dataschema": DATASCHEMA,
            "datacontenttype": "application/json",
            "time": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "data": data,
        }
        enqueue_webhook(
            Tx.of(session),
            sim.account_id,
            kind="connection_event",
            url=sink.url,
            method="POST",
            params=[],
            json_body=json.dumps([cloud_event], separators=(",", ":")),
            subject=sim.sid,
            now=now,
        )
    return event


def set_event_sink(session: Session, account_id: int, url: str | None, *, now: dt.datetime) -> None:
    """Deliver the account's connection events to `url` from now on (None: stop)."""
    sink = session.get(EventSink, account_id)
    if url is None:
        if sink is not None:
            session.delete(sink)
    elif sink is None:
        session.add(EventSink(account_id=account_id, url=url, date_created=now))
    else:
        sink.url = url
    session.flush()


def list_events(session: Session, sim: Sim, *, page: PageRequest) -> Page[ConnectionEvent]:
    """The Sim's connection events, oldest first."""
    query = select(ConnectionEvent).where(ConnectionEvent.sim_id == sim.id)
    return fetch_page(session, query, ConnectionEvent.id, page)
