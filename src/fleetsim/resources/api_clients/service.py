"""API clients (KORE's OAuth 2.0 client credentials) and the Bearer tokens they obtain.

An account creates API clients; each has a secret, shown once (only a salted hash is kept,
as for API keys), and a token lifetime chosen at creation: 1 hour, 24 hours, 30 days or
24 months. `POST /api-services/v1/auth/token` exchanges the client's id and secret for an
access token that acts for the client's account until it expires on the server's clock.

Tokens are not stored: an access token is the client id and the expiry time sealed with
the server's secret key (`fleetsim.db.secret_key`, AES-GCM, as auth tokens are sealed), so
every node sharing the database (and so the key) honours it. Each use looks the client up
again, so deleting the client (revoking it) ends its tokens at once.

Deviations: KORE's tokens are JWTs signed by KORE; fleetsim's are opaque strings (clients
must treat them as opaque anyway). KORE's client API has no lifetime field and no DELETE:
fleetsim takes `lifetime` as an extra field (default 1 hour) and answers DELETE
/v1/clients/{client_id} to revoke a client, besides the control API and the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.credentials import hash_secret, new_salt, new_token, same_secret
from fleetsim.core.errors import InvalidParameter, NotFound, TokenRequestRefused
from fleetsim.core.sealing import SEALED_PREFIX, SecretKeyError
from fleetsim.core.sids import SidFactory
from fleetsim.db.paging import fetch_numbered_page
from fleetsim.db.secret_key import token_box
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, ApiClient
from fleetsim.resources.accounts.cache import remembered
from fleetsim.resources.accounts.service import ACCOUNT_COLUMNS, account_of_row

__all__ = [
    "CLIENT_ID_PREFIX",
    "DEFAULT_LIFETIME",
    "LIFETIMES",
    "IssuedToken",
    "NewApiClient",
    "account_of_token",
    "client_path",
    "create_api_client",
    "fetch_api_client",
    "issue_token",
    "lifetime_seconds",
    "list_api_clients",
    "revoke_api_client",
]

CLIENT_ID_PREFIX = "apiclient_"
# KORE's four choices, by the names its console shows them with.
LIFETIMES: Mapping[str, int] = {
    "1h": 3600,
    "24h": 24 * 3600,
    "30d": 30 * 86400,
    "24mo": 730 * 86400,
}
DEFAULT_LIFETIME = "1h"
GRANT_TYPE = "client_credentials"
# Associated data of sealed access tokens: a sealed auth token never opens as one.
_TOKEN_CONTEXT = "kore access token"  # noqa: S105 - associated data, not a secret
_INVALID_CLIENT = "Invalid client or Invalid client credentials"
_DUMMY_HASH = hash_secret("0" * 32, "0" * 32)


@dataclass(frozen=True)
class NewApiClient:
    """An API client as created: the only moment its secret is known."""

    client: ApiClient
    secret: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def client_path(client_id: str) -> str:
    return f"/v1/clients/{client_id}"


def lifetime_seconds(name: str) -> int:
    """Seconds of a lifetime named `1h`, `24h`, `30d` or `24mo`."""
    seconds = LIFETIMES.get(name)
    if seconds is None:
        raise InvalidParameter("lifetime", f"must be one of {', '.join(LIFETIMES)}")
    return seconds


def create_api_client(
    session: Session,
    account: Account,
    *,
    name: str | None,
    lifetime: str = DEFAULT_LIFETIME,
    clock: Clock,
    sids: SidFactory,
) -> NewApiClient:
    """Create an API client acting for `account`; only a salted hash of the secret is kept."""
    if name is not None and not 0 < len(name) <= 64:
        raise InvalidParameter("name", "must be 1 to 64 characters")
    if name is not None and "\x00" in name:
        raise InvalidParameter("name", "must not contain NUL characters")
    seconds = lifetime_seconds(lifetime)
    secret = new_token()
    salt = new_salt()
    client_id = sids.new_kore_id(CLIENT_ID_PREFIX)
    client = ApiClient(
        client_id=client_id,
        account_id=account.id,
        name=name or f"fleetsim client {client_id[-6:]}",
        lifetime_seconds=seconds,
        secret_salt=salt,
        secret_hash=hash_secret(secret, salt),
        date_created=clock.now(),
    )
    session.add(client)
    session.flush()
    return NewApiClient(client=client, secret=secret)


def list_api_clients(
    session: Session, account: Account, *, number: int, size: int
) -> tuple[list[ApiClient], int]:
    """Page `number` (from 1) of the account's clients, oldest first, and their count."""
    query = select(ApiClient).where(ApiClient.account_id == account.id)
    return fetch_numbered_page(session, query, ApiClient.id, number=number, size=size)


def fetch_api_client(session: Session, account: Account, client_id: str) -> ApiClient:
    client = session.execute(
        select(ApiClient).where(
            ApiClient.account_id == account.id, ApiClient.client_id == client_id
        )
    ).scalar_one_or_none()
    if client is None:
        raise NotFound(client_path(client_id))
    return client


def revoke_api_client(session: Session, account: Account, client_id: str) -> None:
    """Delete the client: it gets no more tokens, and the tokens it got act no more."""
    session.delete(fetch_api_client(session, account, client_id))
    session.flush()


def issue_token(
    session: Session,
    *,
    grant_type: str,
    client_id: str,
    client_secret: str,
    clock: Clock,
) -> IssuedToken:
    """An access token for these client credentials (400 or 401 in OAuth's shape)."""
    if grant_type != GRANT_TYPE:
        raise TokenRequestRefused(400, "unsupported_grant_type", f"grant_type must be {GRANT_TYPE}")
    row = session.execute(
        select(ApiClient, Account)
        .join(Account, Account.id == ApiClient.account_id)
        .where(ApiClient.client_id == client_id)
    ).one_or_none()
    if row is None:
        # Hash anyway, so timing does not tell an unknown client from a wrong secret.
        same_secret(hash_secret(client_secret, "0" * 32), _DUMMY_HASH)
        raise TokenRequestRefused(401, "invalid_client", _INVALID_CLIENT)
    client, account = row
    if not same_secret(hash_secret(client_secret, client.secret_salt), client.secret_hash):
        raise TokenRequestRefused(401, "invalid_client", _INVALID_CLIENT)
    if account.status != "active":
        raise TokenRequestRefused(401, "invalid_client", _INVALID_CLIENT)
    expires = int(clock.now().timestamp()) + client.lifetime_seconds
    sealed = token_box(session).seal(f"{client.client_id} {expires}", account_sid=_TOKEN_CONTEXT)
    return IssuedToken(sealed.removeprefix(SEALED_PREFIX), client.lifetime_seconds)


_ACCOUNT_BY_CLIENT_SQL = (
    f"SELECT {ACCOUNT_COLUMNS} FROM api_clients c "  # noqa: S608 (names from the code)
    "JOIN accounts a ON a.id = c.account_id WHERE c.client_id = ?"
)


def account_of_token(tx: Tx, token: str, *, now: dt.datetime) -> Account | None:
    """The active account an unexpired access token of a live client acts for; None for
    any other token (malformed, forged, sealed under another key, expired, revoked). The
    client is read on every use (on PostgreSQL, kept between uses until it changes:
    `fleetsim.resources.accounts.cache`), so revoking it ends its tokens."""
    if not token or len(token) > 512:
        return None
    try:
        opened = token_box(tx.engine).open(SEALED_PREFIX + token, account_sid=_TOKEN_CONTEXT)
    except SecretKeyError:
        return None
    client_id, _, expires = opened.partition(" ")
    if not expires.isdigit() or now.timestamp() >= int(expires):
        return None
    row = remembered(
        tx, ("client", client_id), lambda: tx.one(_ACCOUNT_BY_CLIENT_SQL, (client_id,))
    )
    if row is None:
        return None
    account = account_of_row(row)
    return account if account.status == "active" else None
