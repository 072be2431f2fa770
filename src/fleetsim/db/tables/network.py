"""The simulated network: devices and their inboxes, commands, billing periods, usage and
its rollups, connection events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fleetsim.db.tables.core import Base, Sim
from fleetsim.db.types import UTCDateTime

__all__ = [
    "BillingPeriod",
    "ConnectionEvent",
    "Device",
    "DeviceMessage",
    "EventSink",
    "IpCommand",
    "SmsCommand",
    "UsageDay",
    "UsageFleetDay",
    "UsageFleetHour",
    "UsageHour",
    "UsageTotals",
]


class Device(Base):
    """The modem holding a Sim: attached to a network or not, with its data session."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"), unique=True)
    imei: Mapped[str] = mapped_column(String(15))
    state: Mapped[str] = mapped_column(String(16), default="detached")
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id"))
    ip_address: Mapped[str | None] = mapped_column(String(15))
    attached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    data_session_sid: Mapped[str | None] = mapped_column(String(34))
    session_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    session_upload: Mapped[int] = mapped_column(BigInteger, default=0)
    session_download: Mapped[int] = mapped_column(BigInteger, default=0)
    # Data blocked by the Fleet's data limit (takes effect after the propagation delay).
    data_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # A real UDP endpoint on this machine that receives the device's IP Commands.
    udp_host: Mapped[str | None] = mapped_column(String(64))
    udp_port: Mapped[int | None] = mapped_column(Integer)


class DeviceMessage(Base):
    """What a device received (SMS and IP Commands), in order: its inbox."""

    __tablename__ = "device_messages"
    __table_args__ = (Index(None, "device_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    kind: Mapped[str] = mapped_column(String(8))
    command_sid: Mapped[str] = mapped_column(String(34))
    payload: Mapped[str] = mapped_column(Text)
    payload_type: Mapped[str | None] = mapped_column(String(8))
    port: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SmsCommand(Base):
    __tablename__ = "sms_commands"
    __table_args__ = (
        Index(None, "account_id", "id"),
        Index(None, "account_id", "sim_id", "id"),
        Index(None, "sim_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    sim: Mapped[Sim] = relationship(lazy="raise")
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    callback_method: Mapped[str | None] = mapped_column(String(4))
    # Mobile-terminated commands are retried while the device is away until then.
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class IpCommand(Base):
    __tablename__ = "ip_commands"
    __table_args__ = (
        Index(None, "account_id", "id"),
        Index(None, "account_id", "sim_id", "id"),
        Index(None, "account_id", "sim_iccid", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    sim: Mapped[Sim] = relationship(lazy="raise")
    sim_iccid: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)
    payload_type: Mapped[str] = mapped_column(String(8))
    device_ip: Mapped[str | None] = mapped_column(String(15))
    device_port: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    callback_method: Mapped[str | None] = mapped_column(String(4))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class BillingPeriod(Base):
    """A Sim's billing period; its counters drive the data limit and ready -> active."""

    __tablename__ = "billing_periods"
    __table_args__ = (Index(None, "sim_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    period_type: Mapped[str] = mapped_column(String(8))
    start_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    data_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sms_count: Mapped[int] = mapped_column(Integer, default=0)
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class UsageTotals:
    """What every usage table holds besides its key: whose, in which Fleet, on which network
    (and its country), and how many bytes each way."""

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    fleet_id: Mapped[int] = mapped_column(ForeignKey("fleets.id"))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    iso_country: Mapped[str] = mapped_column(String(2))
    upload: Mapped[int] = mapped_column(BigInteger, default=0)
    download: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageHour(UsageTotals, Base):
    """Bytes a Sim moved in one UTC hour, in one Fleet, on one network: the source of
    UsageRecords. Kept as it happens, so totals never drift from what devices used."""

    __tablename__ = "usage_hours"
    __table_args__ = (
        UniqueConstraint("sim_id", "fleet_id", "network_id", "hour"),
        Index(None, "account_id", "hour"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class UsageDay(UsageTotals, Base):
    """`usage_hours` summed per UTC day, written in the same transaction as the hours.
    Carries the Sim's SID so that Group=sim lists in SID order straight off an index."""

    __tablename__ = "usage_days"
    __table_args__ = (
        UniqueConstraint("sim_id", "fleet_id", "network_id", "day"),
        Index(None, "account_id", "sim_sid", "day"),
        Index(None, "account_id", "day", "sim_sid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    sim_sid: Mapped[str] = mapped_column(String(34))
    day: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class UsageFleetHour(UsageTotals, Base):
    """`usage_hours` summed over the Sims of a Fleet: what queries without a Sim read."""

    __tablename__ = "usage_fleet_hours"
    __table_args__ = (
        UniqueConstraint("fleet_id", "network_id", "hour"),
        Index(None, "account_id", "hour"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class UsageFleetDay(UsageTotals, Base):
    """`usage_fleet_hours` summed per UTC day."""

    __tablename__ = "usage_fleet_days"
    __table_args__ = (
        UniqueConstraint("fleet_id", "network_id", "day"),
        Index(None, "account_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ConnectionEvent(Base):
    """A Super SIM connection event (CloudEvents `data` as Twilio's schema v2)."""

    __tablename__ = "connection_events"
    __table_args__ = (Index(None, "account_id", "id"), Index(None, "sim_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    event_type: Mapped[str] = mapped_column(String(96))
    data: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class EventSink(Base):
    """Where an account's connection events are delivered (a webhook sink)."""

    __tablename__ = "event_sinks"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
