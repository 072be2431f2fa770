"""The statements a `fleetsim.db.store.Tx` writes for the ORM's models: an insert, a load
and an update of a model's columns, each worked out once per model (and columns) and
dialect, with the bind and result processors SQLAlchemy would apply, so that what a Tx
stores and reads is what a flush and a load of the same values would."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Dialect

from fleetsim.db.dialect import for_update
from fleetsim.db.tables import Base

__all__ = [
    "RETURNING_ID",
    "InsertPlan",
    "attribute_bind",
    "insert_plan",
    "load_plan",
    "update_plan",
]


@dataclass(frozen=True)
class InsertPlan:
    sql: str
    # Attribute, value when unset (the column's scalar default), bind processor.
    columns: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The statement's parameters for a row holding `values` (by attribute)."""
        params = []
        for key, default, process in self.columns:
            value = values.get(key)
            if value is None:  # as a flush does: an unset or None attribute takes the default
                value = default
            params.append(value if process is None else process(value))
        return tuple(params)


RETURNING_ID = " RETURNING id"


@lru_cache(maxsize=64)
def insert_plan(model: type[Base], dialect: Dialect) -> InsertPlan:
    mapper = inspect(model)
    columns = []
    for attribute in mapper.column_attrs:
        (column,) = attribute.columns
        if column.primary_key:
            continue
        assert column.server_default is None, f"{column} has a server default"
        default = column.default
        assert default is None or default.is_scalar, f"{column} has a computed default"
        value = default.arg if default is not None else None
        columns.append((attribute.key, value, _bind(column, dialect)))
    names = ", ".join(mapper.get_property(key).columns[0].name for key, _, _ in columns)
    marks = ", ".join("?" for _ in columns)
    table = model.__tablename__
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}){RETURNING_ID}"  # noqa: S608 (mapped names)
    return InsertPlan(sql, tuple(columns))


@lru_cache(maxsize=128)
def load_plan(
    model: type[Base], where: str, dialect: Dialect, lock: bool
) -> tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...]]:
    mapper = inspect(model)
    fields = []
    names = []
    for attribute in mapper.column_attrs:
        (column,) = attribute.columns
        names.append(column.name)
        fields.append((attribute.key, _result(column, dialect)))
    table = model.__tablename__
    lock_clause = for_update(dialect, table) if lock else ""
    sql = f"SELECT {', '.join(names)} FROM {table} WHERE {where}{lock_clause}"  # noqa: S608
    return sql, tuple(fields)


@lru_cache(maxsize=64)
def update_plan(
    model: type[Base], keys: tuple[str, ...], where: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[Callable[[Any], Any] | None, ...]]:
    mapper = inspect(model)
    columns = [mapper.get_property(key).columns[0] for key in (*keys, *where)]
    assignments = ", ".join(f"{column.name} = ?" for column in columns[: len(keys)])
    conditions = " AND ".join(f"{column.name} = ?" for column in columns[len(keys) :])
    table = model.__tablename__
    sql = f"UPDATE {table} SET {assignments} WHERE {conditions}"  # noqa: S608 (mapped names)
    return sql, tuple(_bind(column, dialect) for column in columns)


@lru_cache(maxsize=64)
def attribute_bind(model: type[Base], key: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    return _bind(inspect(model).get_property(key).columns[0], dialect)


def _bind(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of `column` before the driver gets it (the
    dialect's own type: SQLite's DATETIME writes the text a flush writes)."""
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(
        dialect
    )
    return processor


def _result(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of `column` the driver returns."""
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).result_processor(
        dialect, None
    )
    return processor
