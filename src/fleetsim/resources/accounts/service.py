"""Accounts, subaccounts and API keys, and who a request acts for.

Deviation: Twilio lets parent credentials reach subaccount resources in some APIs; Super
SIM resources here are visible only to the account that owns them (behaviour reference
§1.3), and API keys act for the account that owns them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.credentials import hash_secret, new_salt, new_token, same_secret
from fleetsim.core.errors import AuthenticationFailed, InvalidParameter, NotFound
from fleetsim.core.sids import Prefix, SidFactory, is_sid
from fleetsim.db.tables import Account, ApiKey

__all__ = [
    "NewApiKey",
    "authenticate",
    "create_account",
    "create_api_key",
    "ensure_account",
    "fetch_account",
]

_DUMMY_HASH = hash_secret("0" * 32, "0" * 32)
# Built once: every request runs it, and building it costs as much as running it.
_ACCOUNT_BY_SID = select(Account).where(Account.sid == bindparam("sid"))


@dataclass(frozen=True)
class NewApiKey:
    """An API key as created: the only moment its secret is known."""

    key: ApiKey
    secret: str


def create_account(
    session: Session,
    *,
    friendly_name: str | None,
    parent: Account | None,
    clock: Clock,
    sids: SidFactory,
) -> Account:
    """Create an account (a subaccount when `parent` is given) with a fresh auth token."""
    now = clock.now()
    sid = sids.new(Prefix.ACCOUNT)
    account = Account(
        sid=sid,
        friendly_name=friendly_name or f"fleetsim account {sid[-6:]}",
        auth_token=new_token(),
        parent_id=parent.id if parent else None,
        status="active",
        date_created=now,
        date_updated=now,
    )
    session.add(account)
    session.flush()
    return account


def ensure_account(session: Session, *, sid: str, auth_token: str, clock: Clock) -> Account:
    """Make sure the account `sid` exists with `auth_token`; the same result on every call."""
    if not is_sid(sid, Prefix.ACCOUNT):
        raise InvalidParameter("AccountSid", "must be AC followed by 32 hex digits")
    if len(auth_token) != 32 or not auth_token.isalnum():
        raise InvalidParameter("AuthToken", "must be 32 letters or digits")
    account = session.execute(select(Account).where(Account.sid == sid)).scalar_one_or_none()
    now = clock.now()
    if account is None:
        account = Account(
            sid=sid,
            friendly_name="fleetsim account",
            auth_token=auth_token,
            status="active",
            date_created=now,
            date_updated=now,
        )
        session.add(account)
    elif account.auth_token != auth_token or account.status != "active":
        account.auth_token = auth_token
        account.status = "active"
        account.date_updated = now
    session.flush()
    return account


def fetch_account(session: Session, sid: str) -> Account:
    account = session.execute(select(Account).where(Account.sid == sid)).scalar_one_or_none()
    if account is None:
        raise NotFound(f"/Accounts/{sid}")
    return account


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
        friendly_name=friendly_name,
        secret_salt=salt,
        secret_hash=hash_secret(secret, salt),
        date_created=now,
        date_updated=now,
    )
    session.add(key)
    session.flush()
    return NewApiKey(key=key, secret=secret)


def authenticate(session: Session, username: str, password: str) -> Account:
    """The active account these Basic credentials act for; 20003 otherwise."""
    if username.startswith(Prefix.API_KEY.value):
        return _authenticate_key(session, username, password)
    account = session.execute(_ACCOUNT_BY_SID, {"sid": username}).scalar_one_or_none()
    expected = account.auth_token if account is not None else "0" * 32
    # Compare even when the account is unknown, so timing does not tell which part was wrong.
    if not same_secret(password, expected) or account is None or account.status != "active":
        raise AuthenticationFailed()
    return account


def _authenticate_key(session: Session, username: str, password: str) -> Account:
    row = session.execute(
        select(ApiKey, Account)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.sid == username)
    ).one_or_none()
    if row is None:
        same_secret(hash_secret(password, "0" * 32), _DUMMY_HASH)
        raise AuthenticationFailed()
    key, account = row
    if not same_secret(hash_secret(password, key.secret_salt), key.secret_hash):
        raise AuthenticationFailed()
    if account.status != "active":
        raise AuthenticationFailed()
    return account
