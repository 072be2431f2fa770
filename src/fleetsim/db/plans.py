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
    "LookupInsert",
    "attribute_bind",
    "insert_plan",
    "insert_with_lookup",
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


@dataclass(frozen=True)
class LookupInsert:
    """`insert_plan(model)`'s insert with the column of one attribute taking the id of a
    row of another table, found by the statement itself (`insert_with_lookup`)."""

    sql: str  # without RETURNING
    # The place, among the plan's parameters, of the one the statement leaves out.
    place: int
    column: str


@lru_cache(maxsize=64)
def insert_with_lookup(
    model: type[Base], dialect: Dialect, attribute: str, table: str, key: str
) -> LookupInsert:
    """The insert of a row of `model` whose `attribute` takes the id of the row of `table`
    whose `account_id` and `key` equal the statement's last two parameters: `INSERT ...
    SELECT ..., r.id, ... FROM table r WHERE r.account_id = ? AND r.key = ?`, which
    inserts nothing when there is no such row."""
    plan = insert_plan(model, dialect)
    head, _, _ = plan.sql.partition(" VALUES ")
    place = [key for key, _, _ in plan.columns].index(attribute)
    marks = ["?"] * len(plan.columns)
    marks[place] = "r.id"
    where = f"r.account_id = ? AND r.{key} = ?"
    sql = f"{head} SELECT {', '.join(marks)} FROM {table} r WHERE {where}"  # noqa: S608
    return LookupInsert(sql, place, inspect(model).get_property(attribute).columns[0].name)


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
