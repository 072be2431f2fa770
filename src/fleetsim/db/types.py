"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.sql.type_api import _BindProcessorType

__all__ = ["UTCDateTime"]


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stored as naive UTC on both backends; always read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return _naive_utc(value)

    def bind_processor(self, dialect: Dialect) -> _BindProcessorType[dt.datetime] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _sqlite_text

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


def _naive_utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError("UTCDateTime needs an aware datetime")
    utc: dt.datetime = value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)
    return utc.replace(tzinfo=None)  # the clock's times are in UTC already: no conversion


def _sqlite_text(value: Any) -> str | None:
    """The text SQLite's DATETIME stores for an aware datetime (`2026-12-03 04:59:54.000000`,
    in UTC), made in one step rather than through the two processors it replaces:
    registering a Sim binds eight dates."""
    if value.__class__ is dt.datetime and value.tzinfo is dt.UTC:  # the clock's times
        return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"
    naive = _naive_utc(value)
    return None if naive is None else naive.isoformat(" ", "microseconds")
