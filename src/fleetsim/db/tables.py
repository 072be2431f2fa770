"""All tables, in one place because they relate across resources.

Every resource row has an integer `id` (the keyset for paging: insertion order) and a
public `sid`. Constraints that matter are in the database itself, so they hold when
several server processes share one PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fleetsim.db.types import UTCDateTime

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "Fleet",
    "Network",
    "NetworkAccessProfile",
    "NetworkAccessProfileNetwork",
    "NetworkIdentifier",
    "Sim",
    "SimCard",
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
    auth_token: Mapped[str] = mapped_column(String(32))
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
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # One registration per card, whichever account holds it.
    iccid: Mapped[str] = mapped_column(ForeignKey("sim_cards.iccid"), unique=True)
    unique_name: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    fleet_id: Mapped[int | None] = mapped_column(ForeignKey("fleets.id"))
    fleet: Mapped[Fleet | None] = relationship(lazy="raise")
    date_created: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime)
