"""Accounts and subaccounts, and who a request acts for.

An account reaches itself and its subaccounts (the Accounts API); a subaccount reaches
only itself, never its parent or its siblings (404, as for anything that is not yours).
A `suspended` or `closed` account cannot authenticate (401, 20003), and its Sims stop
passing traffic: suspending or closing detaches their devices, which cannot attach again
because the device API authenticates as the account. `closed` is final.

Auth tokens are kept sealed with the server's secret key (`fleetsim.db.secret_key`);
`auth_token_of` opens one. Every comparison of a secret runs in constant time.

Deviations: Twilio lets parent credentials reach subaccount resources in some APIs; Super
SIM resources here are visible only to the account that owns them (behaviour reference
§1.3), and API keys act for the account that owns them. Only a parent changes a
subaccount's Status (an account cannot suspend or close itself through the API), and a
subaccount cannot create subaccounts (403, 20403), so accounts nest one level deep.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.credentials import hash_secret, new_token, same_secret
from fleetsim.core.errors import AuthenticationFailed, Forbidden, InvalidParameter, NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sealing import SecretKeyError
from fleetsim.core.sids import Prefix, SidFactory, is_sid
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.secret_key import token_box
from fleetsim.db.store import Row, Tx, detached, stored_datetime
from fleetsim.db.tables import Account
from fleetsim.network.devices import detach_all
from fleetsim.resources.accounts.cache import remembered

__all__ = [
    "ACCOUNTS_PATH",
    "ACCOUNT_COLUMNS",
    "STATUSES",
    "account_of_row",
    "active_accounts",
    "auth_token_of",
    "authenticate",
    "create_account",
    "create_subaccount",
    "ensure_account",
    "fetch_account",
    "list_accounts",
    "reachable_account",
    "update_account",
]

log = logging.getLogger("fleetsim.accounts")

ACCOUNTS_PATH = "/2010-04-01/Accounts"
STATUSES = ("active", "suspended", "closed")
# Compared against when the account or key is unknown, so timing tells nothing.
_DUMMY_TOKEN = "0" * 32
_DUMMY_HASH = hash_secret("0" * 32, "0" * 32)


def create_account(
    session: Session,
    *,
    friendly_name: str | None,
    parent: Account | None,
    clock: Clock,
    sids: SidFactory,
) -> Account:
    """Create an account (a subaccount when `parent` is given) with a fresh auth token
    (read it once with `auth_token_of`)."""
    now = clock.now()
    sid = sids.new(Prefix.ACCOUNT)
    account = Account(
        sid=sid,
        friendly_name=friendly_name or f"fleetsim account {sid[-6:]}",
        sealed_auth_token=token_box(session).seal(new_token(), account_sid=sid),
        parent_id=parent.id if parent else None,
        status="active",
        date_created=now,
        date_updated=now,
    )
    session.add(account)
    session.flush()
    return account


def auth_token_of(session: Session, account: Account) -> str:
    return token_box(session).open(account.sealed_auth_token, account_sid=account.sid)


def check_account_credentials(sid: str, auth_token: str) -> None:
    """400 unless `sid` and `auth_token` have the shapes of an account's."""
    if not is_sid(sid, Prefix.ACCOUNT):
        raise InvalidParameter("AccountSid", "must be AC followed by 32 hex digits")
    if len(auth_token) != 32 or not auth_token.isalnum():
        raise InvalidParameter("AuthToken", "must be 32 letters or digits")


def ensure_account(session: Session, *, sid: str, auth_token: str, clock: Clock) -> Account:
    """Make sure the account `sid` exists with `auth_token`; the same result on every call."""
    check_account_credentials(sid, auth_token)
    account = session.execute(select(Account).where(Account.sid == sid)).scalar_one_or_none()
    now = clock.now()
    box = token_box(session)
    if account is None:
        account = Account(
            sid=sid,
            friendly_name="fleetsim account",
            sealed_auth_token=box.seal(auth_token, account_sid=sid),
            status="active",
            date_created=now,
            date_updated=now,
        )
        session.add(account)
    elif (
        not same_secret(box.open(account.sealed_auth_token, account_sid=sid), auth_token)
        or account.status != "active"
    ):
        account.sealed_auth_token = box.seal(auth_token, account_sid=sid)
        account.status = "active"
        account.date_updated = now
    session.flush()
    return account


def fetch_account(session: Session, sid: str) -> Account:
    account = session.execute(select(Account).where(Account.sid == sid)).scalar_one_or_none()
    if account is None:
        raise NotFound(f"/Accounts/{sid}")
    return account


# The columns of an `Account` (`a`), by name in the database (see `account_of_row`), and
# of the API key that acts for one.
ACCOUNT_COLUMNS = (
    "a.id, a.sid, a.friendly_name, a.auth_token, a.parent_id, a.status, a.date_created, "
    "a.date_updated"
)
_ACCOUNT_BY_SID_SQL = f"SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.sid = ?"  # noqa: S608
_ACCOUNT_BY_KEY_SQL = (
    f"SELECT k.secret_salt, k.secret_hash, {ACCOUNT_COLUMNS} "  # noqa: S608
    "FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.sid = ?"
)


def authenticate(tx: Tx, username: str, password: str, *, api_keys: bool = True) -> Account:
    """The active account these Basic credentials act for; 20003 otherwise. With
    `api_keys` False, a valid API key is refused with 403 (the Accounts API). The account
    is read once per transaction (on PostgreSQL, kept between requests:
    `fleetsim.resources.accounts.cache`), and given as a `detached` row: load it in the
    session to change it."""
    if username.startswith(Prefix.API_KEY.value):
        account = _active_account(_known(tx, "key", username, password, _key_account_row))
        if not api_keys:
            raise Forbidden("API keys cannot manage accounts or keys: use the account's auth token")
        return account
    return _active_account(_known(tx, "token", username, password, _token_account_row))


def _known(
    tx: Tx,
    kind: str,
    username: str,
    password: str,
    look_up: Callable[[Tx, str, str], Row | None],
) -> Row:
    """The account row these credentials of `kind` act for, kept or looked up; 20003 when
    they act for no one."""
    row = remembered(tx, (kind, username, password), lambda: look_up(tx, username, password))
    if row is None:
        raise AuthenticationFailed()
    return row


def _token_account_row(tx: Tx, account_sid: str, password: str) -> Row | None:
    found = tx.settled(_ACCOUNT_BY_SID_SQL, (account_sid,))
    expected, usable = _DUMMY_TOKEN, False
    if found is not None:
        try:
            expected = token_box(tx.engine).open(found[3], account_sid=found[1])
            usable = True
        except SecretKeyError as exc:  # this node has another key: a 401, and why in the log
            log.error("%s", exc)
    # Compare even when the account is unknown, so timing does not tell which part was wrong.
    if not same_secret(password, expected) or not usable:
        return None
    return found


def _key_account_row(tx: Tx, key_sid: str, password: str) -> Row | None:
    row = tx.settled(_ACCOUNT_BY_KEY_SQL, (key_sid,))
    if row is None:
        same_secret(hash_secret(password, "0" * 32), _DUMMY_HASH)
        return None
    salt, secret_hash, *account = row
    if not same_secret(hash_secret(password, salt), secret_hash):
        return None
    return tuple(account)


def _active_account(row: Row) -> Account:
    account = account_of_row(row)
    if account.status != "active":
        raise AuthenticationFailed()
    return account


def account_of_row(row: Row) -> Account:
    """The `detached` account of a row of `ACCOUNT_COLUMNS`."""
    account_id, sid, friendly_name, sealed, parent_id, status, created, updated = row
    return detached(
        Account,
        {
            "id": account_id,
            "sid": sid,
            "friendly_name": friendly_name,
            "sealed_auth_token": sealed,
            "parent_id": parent_id,
            "status": status,
            "date_created": stored_datetime(created),
            "date_updated": stored_datetime(updated),
        },
    )


# --- the Accounts API -------------------------------------------------------------------


def account_path(sid: str) -> str:
    return f"{ACCOUNTS_PATH}/{sid}.json"


def reachable_account(
    session: Session, account: Account, sid: str, *, path: str | None = None
) -> Account:
    """`sid` when it is `account` itself or one of its subaccounts (loaded in the session,
    to be changed there); 404 (naming `path`, the resource asked for) otherwise."""
    if sid == account.sid:
        found = session.get(Account, account.id)
        assert found is not None
        return found
    found = None
    if is_sid(sid, Prefix.ACCOUNT):
        found = session.execute(
            select(Account).where(Account.sid == sid, Account.parent_id == account.id)
        ).scalar_one_or_none()
    if found is None:
        raise NotFound(path or account_path(sid))
    return found


def create_subaccount(
    session: Session,
    account: Account,
    *,
    friendly_name: str | None,
    clock: Clock,
    sids: SidFactory,
) -> Account:
    if account.parent_id is not None:
        raise Forbidden("A subaccount cannot create subaccounts")
    now = clock.now()
    return create_account(
        session,
        friendly_name=friendly_name or f"SubAccount Created at {now:%Y-%m-%d %I:%M %p}",
        parent=account,
        clock=clock,
        sids=sids,
    )


def list_accounts(
    session: Session,
    account: Account,
    *,
    friendly_name: str | None,
    status: str | None,
    page: PageRequest,
) -> Page[Account]:
    """The account itself and its subaccounts, oldest first."""
    query = select(Account).where(or_(Account.id == account.id, Account.parent_id == account.id))
    if friendly_name is not None:
        query = query.where(Account.friendly_name == friendly_name)
    if status is not None:
        query = query.where(Account.status == status)
    return fetch_page(session, query, Account.id, page)


def update_account(
    session: Session,
    account: Account,
    sid: str,
    *,
    friendly_name: str | None,
    status: str | None,
    now: dt.datetime,
    sids: SidFactory,
) -> Account:
    target = reachable_account(session, account, sid)
    if status is not None and status != target.status:
        if target.parent_id != account.id:
            raise InvalidParameter("Status", "an account's status is changed by its parent account")
        if target.status == "closed":
            raise InvalidParameter("Status", "a closed account cannot be reopened")
        target.status = status
        if status != "active":
            detach_all(session, target.id, now=now, sids=sids)
    if friendly_name is not None:
        if len(friendly_name) > 64:
            raise InvalidParameter("FriendlyName", "must be at most 64 characters")
        target.friendly_name = friendly_name
    target.date_updated = now
    session.flush()
    return target


def active_accounts(session: Session, *, limit: int = 500) -> list[Account]:
    """Active accounts, oldest first: those the operator's console can switch between."""
    query = select(Account).where(Account.status == "active").order_by(Account.id).limit(limit)
    return list(session.execute(query).scalars())
