"""API keys: a SID and a secret that act for the account owning them.

The secret is shown once, when the key is made; only a salted SHA-256 of it is kept
(`fleetsim.core.credentials`). Deleting a key revokes it: the next request made with it
answers 401 (20003).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.credentials import hash_secret, new_salt, new_token
from fleetsim.core.errors import InvalidParameter, NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory, is_sid
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.tables import Account, ApiKey
from fleetsim.resources.accounts.service import ACCOUNTS_PATH

__all__ = [
    "NewApiKey",
    "create_api_key",
    "delete_api_key",
    "fetch_api_key",
    "key_path",
    "list_api_keys",
    "update_api_key",
]


@dataclass(frozen=True)
class NewApiKey:
    """An API key as created: the only moment its secret is known."""

    key: ApiKey
    secret: str


def key_path(account: Account, sid: str) -> str:
    return f"{ACCOUNTS_PATH}/{account.sid}/Keys/{sid}.json"


def _friendly_name(value: str | None) -> str | None:
    if value is not None and len(value) > 64:
        raise InvalidParameter("FriendlyName", "must be at most 64 characters")
    return value


def create_api_key(
    session: Session,
    account: Account,
    *,
    friendly_name: str | None,
    clock: Clock,
    sids: SidFactory,
) -> NewApiKey:
    """Create an API key acting for `account`; only a salted hash of the secret is kept."""
    now = clock.now()
    secret = new_token()
    salt = new_salt()
    key = ApiKey(
        sid=sids.new(Prefix.API_KEY),
        account_id=account.id,
        friendly_name=_friendly_name(friendly_name),
        secret_salt=salt,
        secret_hash=hash_secret(secret, salt),
        date_created=now,
        date_updated=now,
    )
    session.add(key)
    session.flush()
    return NewApiKey(key=key, secret=secret)


def list_api_keys(session: Session, account: Account, *, page: PageRequest) -> Page[ApiKey]:
    return fetch_page(
        session, select(ApiKey).where(ApiKey.account_id == account.id), ApiKey.id, page
    )


def fetch_api_key(session: Session, account: Account, sid: str) -> ApiKey:
    key = None
    if is_sid(sid, Prefix.API_KEY):
        key = session.execute(
            select(ApiKey).where(ApiKey.account_id == account.id, ApiKey.sid == sid)
        ).scalar_one_or_none()
    if key is None:
        raise NotFound(key_path(account, sid))
    return key


def update_api_key(
    session: Session, account: Account, sid: str, *, friendly_name: str | None, now: dt.datetime
) -> ApiKey:
    key = fetch_api_key(session, account, sid)
    if friendly_name is not None:
        key.friendly_name = _friendly_name(friendly_name)
    key.date_updated = now
    session.flush()
    return key


def delete_api_key(session: Session, account: Account, sid: str) -> None:
    """Revoke the key: it authenticates no more."""
    session.delete(fetch_api_key(session, account, sid))
    session.flush()
