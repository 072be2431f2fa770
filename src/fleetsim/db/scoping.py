"""Every account-owned query goes through here, so that no rule can forget the account."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.base import ExecutableOption

from fleetsim.core.sids import Prefix, is_sid

__all__ = ["AccountOwned", "find_by_ref", "find_by_sid", "owned"]


class AccountOwned(Protocol):
    id: Any
    sid: Any
    account_id: Any
    unique_name: Any


T = TypeVar("T")


def owned(model: type[T], account_id: int) -> Select[T]:
    """`SELECT model WHERE account_id = :account_id`: the start of every account query."""
    column: InstrumentedAttribute[int] = model.account_id  # type: ignore[attr-defined]
    return select(model).where(column == account_id)


def find_by_ref(
    session: Session,
    model: type[T],
    account_id: int,
    ref: str,
    prefix: Prefix,
    *options: ExecutableOption,
) -> T | None:
    """The row of this account addressed by SID or, failing the SID shape, unique name."""
    if is_sid(ref, prefix):
        condition = model.sid == prefix.value + ref[2:].lower()  # type: ignore[attr-defined]
    else:
        condition = model.unique_name == ref  # type: ignore[attr-defined]
    query = owned(model, account_id).where(condition).options(*options)
    return session.execute(query).scalar_one_or_none()


def find_by_sid(
    session: Session,
    model: type[T],
    account_id: int,
    sid: str,
    prefix: Prefix,
    *options: ExecutableOption,
) -> T | None:
    """The row of this account with this SID (resources without unique names); None for
    strings that are not SIDs of `prefix`."""
    if not is_sid(sid, prefix):
        return None
    condition = model.sid == prefix.value + sid[2:].lower()  # type: ignore[attr-defined]
    query = owned(model, account_id).where(condition).options(*options)
    return session.execute(query).scalar_one_or_none()
