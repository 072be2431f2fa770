"""All tables, in one place because they relate across resources.

Every resource row has an integer `id` (the keyset for paging: insertion order) and a
public `sid`. Constraints that matter are in the database itself, so they hold when
several server processes share one PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fleetsim.db.types import UTCDateTime

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "BillingPeriod",
    "BulkOperation",
    "ClockState",
    "ConnectionEvent",
    "ConsoleSecret",
    "Device",
    "DeviceMessage",
    "ESimProfile",
    "ESimStock",
    "EventSink",
    "Fleet",
    "IpCommand",
    "Job",
    "Network",
    "NetworkAccessProfile",
    "NetworkAccessProfileNetwork",
    "NetworkIdentifier",
    "OperatorCredential",
    "ProgressionPolicy",
    "SettingsUpdate",
    "Sim",
    "SimCard",
    "SimStatusEvent",
    "SmsCommand",
    "UsageDay",
    "UsageFleetDay",
    "UsageFleetHour",
    "UsageHour",
    "Webhook",
    "WebhookAttempt",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    friendly_name: Mapped[str] = mapped_column(String(64))
    # Sealed with the server's secret key (fleetsim.core.sealing); open it with
    # fleetsim.resources.accounts.service.auth_token_of.
    sealed_auth_token: Mapped[str] = mapped_column("auth_token", String(128))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    friendly_name: Mapped[str | None] = mapped_column(String(64))
    secret_salt: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(64))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Network(Base):
    """A real cellular network from the catalogue; shared by all accounts."""

    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    friendly_name: Mapped[str] = mapped_column(String(128))
    iso_country: Mapped[str] = mapped_column(String(2), index=True)
    # lazy="raise": identifiers are loaded explicitly (selectinload), never one by one.
    identifiers: Mapped[list[NetworkIdentifier]] = relationship(
        order_by="NetworkIdentifier.id", lazy="raise"
    )


class NetworkIdentifier(Base):
    __tablename__ = "network_identifiers"
    __table_args__ = (UniqueConstraint("mcc", "mnc"), Index(None, "mnc"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    mcc: Mapped[str] = mapped_column(String(3))
    mnc: Mapped[str] = mapped_column(String(3))


class NetworkAccessProfile(Base):
    __tablename__ = "network_access_profiles"
    __table_args__ = (
        UniqueConstraint("account_id", "unique_name"),
        Index(None, "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    unique_name: Mapped[str | None] = mapped_column(String(256))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class NetworkAccessProfileNetwork(Base):
    __tablename__ = "nap_networks"
    __table_args__ = (UniqueConstraint("network_access_profile_id", "network_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_access_profile_id: Mapped[int] = mapped_column(ForeignKey("network_access_profiles.id"))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)


class Fleet(Base):
    __tablename__ = "fleets"
    __table_args__ = (
        UniqueConstraint("account_id", "unique_name"),
        Index(None, "account_id", "id"),
        Index(None, "account_id", "network_access_profile_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    unique_name: Mapped[str | None] = mapped_column(String(256))
    network_access_profile_id: Mapped[int] = mapped_column(ForeignKey("network_access_profiles.id"))
    network_access_profile: Mapped[NetworkAccessProfile] = relationship(lazy="raise")
    data_enabled: Mapped[bool] = mapped_column(Boolean)
    data_limit: Mapped[int] = mapped_column(Integer)
    data_metering: Mapped[str] = mapped_column(String(16))
    sms_commands_enabled: Mapped[bool] = mapped_column(Boolean)
    sms_commands_url: Mapped[str | None] = mapped_column(String(2048))
    sms_commands_method: Mapped[str] = mapped_column(String(4))
    ip_commands_url: Mapped[str | None] = mapped_column(String(2048))
    ip_commands_method: Mapped[str] = mapped_column(String(4))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SimCard(Base):
    """A physical card in the warehouse: registrable once, by whoever holds its code."""

    __tablename__ = "sim_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iccid: Mapped[str] = mapped_column(String(20), unique=True)
    registration_code: Mapped[str] = mapped_column(String(32))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Sim(Base):
    __tablename__ = "sims"
    __table_args__ = (
        UniqueConstraint("account_id", "unique_name"),
        Index(None, "account_id", "id"),
        Index(None, "account_id", "status", "id"),
        Index(None, "account_id", "fleet_id", "id"),
        # The console's ICCID search (migration 0007).
        Index(None, "account_id", "iccid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # One registration per card, whichever account holds it.
    iccid: Mapped[str] = mapped_column(ForeignKey("sim_cards.iccid"), unique=True)
    unique_name: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    fleet_id: Mapped[int | None] = mapped_column(ForeignKey("fleets.id"))
    fleet: Mapped[Fleet | None] = relationship(lazy="raise", foreign_keys=[fleet_id])
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # While `status` is "scheduled": the status in effect until the update completes,
    # and the update that is pending (its job completes it).
    settled_status: Mapped[str | None] = mapped_column(String(16))
    target_status: Mapped[str | None] = mapped_column(String(16))
    fleet_change_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    target_fleet_id: Mapped[int | None] = mapped_column(ForeignKey("fleets.id"))
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    callback_method: Mapped[str | None] = mapped_column(String(4))


class SimStatusEvent(Base):
    """A Sim's status history: one row each time a status takes effect."""

    __tablename__ = "sim_status_events"
    __table_args__ = (Index(None, "sim_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    status: Mapped[str] = mapped_column(String(16))
    fleet_id: Mapped[int | None] = mapped_column(ForeignKey("fleets.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Job(Base):
    """Work that happens later: written with the change that causes it, run by a worker.

    `due_at` is on the server clock (manual in tests); None waits for an explicit run.
    `lease_until` is real time: a claim whose worker died expires and is claimed again.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "state", "due_at"), Index(None, "subject", "state"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Webhook(Base):
    """One callback or webhook to deliver; every attempt is a `WebhookAttempt`."""

    __tablename__ = "webhooks"
    __table_args__ = (Index(None, "account_id", "id"), Index(None, "state", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    method: Mapped[str] = mapped_column(String(4))
    params: Mapped[str] = mapped_column(Text)
    # A JSON body (event sinks) instead of form parameters; signed as Twilio signs JSON.
    json_body: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (Index(None, "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)


class ClockState(Base):
    """The server clock, shared by every node: real, or manual at `manual_now`."""

    __tablename__ = "clock_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    manual_now: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ProgressionPolicy(Base):
    """How a lifecycle moves on: `immediate`, after `delay_seconds`, or `manual`."""

    __tablename__ = "progression_policies"

    lifecycle: Mapped[str] = mapped_column(String(32), primary_key=True)
    policy: Mapped[str] = mapped_column(String(16))
    delay_seconds: Mapped[float] = mapped_column(Float)


class OperatorCredential(Base):
    """The operator's control-API credential; only a salted hash of the token is kept."""

    __tablename__ = "operator_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    secret_salt: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(64))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)


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


class UsageHour(Base):
    """Bytes a Sim moved in one UTC hour, in one Fleet, on one network: the source of
    UsageRecords. Kept as it happens, so totals never drift from what devices used."""

    __tablename__ = "usage_hours"
    __table_args__ = (
        UniqueConstraint("sim_id", "fleet_id", "network_id", "hour"),
        Index(None, "account_id", "hour"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    fleet_id: Mapped[int] = mapped_column(ForeignKey("fleets.id"))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    iso_country: Mapped[str] = mapped_column(String(2))
    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    upload: Mapped[int] = mapped_column(BigInteger, default=0)
    download: Mapped[int] = mapped_column(BigInteger, default=0)


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


class ESimProfile(Base):
    """An eSIM Profile reserved for an account: a Sim is made for it when it is available."""

    __tablename__ = "esim_profiles"
    __table_args__ = (
        Index(None, "account_id", "id"),
        Index(None, "account_id", "eid", "id"),
        Index(None, "account_id", "status", "id"),
        Index(None, "matching_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    eid: Mapped[str | None] = mapped_column(String(32))
    generate_matching_id: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    sim_id: Mapped[int | None] = mapped_column(ForeignKey("sims.id"), unique=True)
    sim: Mapped[Sim | None] = relationship(lazy="raise")
    iccid: Mapped[str | None] = mapped_column(String(20))
    smdp_plus_address: Mapped[str | None] = mapped_column(String(256))
    matching_id: Mapped[str | None] = mapped_column(String(64))
    activation_code: Mapped[str | None] = mapped_column(String(512))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    # The EID of the device that downloaded it (activation-code profiles have none before).
    downloaded_by: Mapped[str | None] = mapped_column(String(32))
    # A failure the operator set up for the next download or installation.
    injected_error_code: Mapped[str | None] = mapped_column(String(32))
    injected_error_message: Mapped[str | None] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    callback_method: Mapped[str | None] = mapped_column(String(4))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ESimStock(Base):
    """How many eSIM Profiles the SM-DP+ can still reserve (one row; none: the default)."""

    __tablename__ = "esim_stock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer)


class SettingsUpdate(Base):
    """One change to a Sim's settings packages: at manufacture, or over the air."""

    __tablename__ = "settings_updates"
    __table_args__ = (Index(None, "sim_id", "id"), Index(None, "status", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    sim: Mapped[Sim] = relationship(lazy="raise")
    iccid: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    # JSON: [{"name", "version", "more_info"}], the packages the Sim has once it succeeds.
    packages: Mapped[str] = mapped_column(Text)
    # What the operator said the update ends in: successful or failed.
    outcome: Mapped[str] = mapped_column(String(16))
    date_completed: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class BulkOperation(Base):
    """A console action on many Sims at once, carried out by jobs; counts show progress."""

    __tablename__ = "bulk_operations"
    __table_args__ = (Index(None, "account_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    action: Mapped[str] = mapped_column(String(16))
    fleet_sid: Mapped[str | None] = mapped_column(String(34))
    total: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # The first errors, one per line ("HS...: message"), for the progress page.
    errors: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ConsoleSecret(Base):
    """The key that signs console sessions, made once and shared by every node."""

    __tablename__ = "console_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class UsageDay(Base):
    """`usage_hours` summed per UTC day, written in the same transaction as the hours.
    Carries the Sim's SID so that Group=sim lists in SID order straight off an index."""

    __tablename__ = "usage_days"
    __table_args__ = (
        UniqueConstraint("sim_id", "fleet_id", "network_id", "day"),
        Index(None, "account_id", "sim_sid", "day"),
        Index(None, "account_id", "day", "sim_sid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    sim_id: Mapped[int] = mapped_column(ForeignKey("sims.id"))
    sim_sid: Mapped[str] = mapped_column(String(34))
    fleet_id: Mapped[int] = mapped_column(ForeignKey("fleets.id"))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    iso_country: Mapped[str] = mapped_column(String(2))
    day: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    upload: Mapped[int] = mapped_column(BigInteger, default=0)
    download: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageFleetHour(Base):
    """`usage_hours` summed over the Sims of a Fleet: what queries without a Sim read."""

    __tablename__ = "usage_fleet_hours"
    __table_args__ = (
        UniqueConstraint("fleet_id", "network_id", "hour"),
        Index(None, "account_id", "hour"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    fleet_id: Mapped[int] = mapped_column(ForeignKey("fleets.id"))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    iso_country: Mapped[str] = mapped_column(String(2))
    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    upload: Mapped[int] = mapped_column(BigInteger, default=0)
    download: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageFleetDay(Base):
    """`usage_fleet_hours` summed per UTC day."""

    __tablename__ = "usage_fleet_days"
    __table_args__ = (
        UniqueConstraint("fleet_id", "network_id", "day"),
        Index(None, "account_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    fleet_id: Mapped[int] = mapped_column(ForeignKey("fleets.id"))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    iso_country: Mapped[str] = mapped_column(String(2))
    day: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    upload: Mapped[int] = mapped_column(BigInteger, default=0)
    download: Mapped[int] = mapped_column(BigInteger, default=0)
