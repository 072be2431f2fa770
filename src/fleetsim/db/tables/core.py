"""Accounts, the network catalogue, profiles, Fleets, Sims, and the engine's own tables
(jobs, webhooks, the clock, policies, the operator)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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
    "ApiClient",
    "ApiKey",
    "Base",
    "ClockState",
    "Fleet",
    "Job",
    "Network",
    "NetworkAccessProfile",
    "NetworkAccessProfileNetwork",
    "NetworkIdentifier",
    "OperatorCredential",
    "ProgressionPolicy",
    "Sim",
    "SimCard",
    "SimStatusEvent",
    "Webhook",
    "WebhookAttempt",
    "WebhookSecret",
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


class ApiClient(Base):
    """An OAuth 2.0 client (KORE's API client) acting for its account; its tokens live
    `lifetime_seconds`. Only a salted hash of the secret is kept; deleting revokes it."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    lifetime_seconds: Mapped[int] = mapped_column(Integer)
    secret_salt: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(64))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebhookSecret(Base):
    """A secret that signs the account's callbacks (`kore-signature`); at most one is
    `active`. Sealed like auth tokens, since signing needs it in the clear."""

    __tablename__ = "webhook_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(30), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    sealed_secret: Mapped[str] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(16))
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_modified: Mapped[dt.datetime] = mapped_column(UTCDateTime)


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
        # An ICCID filter (the API's, the console's search) reads the unique ICCID index.
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
