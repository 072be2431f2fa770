"""eSIM Profiles and their stock, Settings Updates, and the console's bulk operations and
session key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fleetsim.db.tables.core import Base, Sim
from fleetsim.db.types import UTCDateTime

__all__ = ["BulkOperation", "ConsoleSecret", "ESimProfile", "ESimStock", "SettingsUpdate"]


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
