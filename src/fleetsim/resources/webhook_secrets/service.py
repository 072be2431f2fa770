"""Webhook secrets (KORE's `/v1/secrets`): what signs an account's callbacks in KORE's
dialect (`kore-signature`, see `fleetsim.webhooks.signing`).

An account has at most one `active` secret; the others are `pending`. Creating a secret
makes it the active one (the previous one turns `pending`), and so does setting a pending
secret's Status to `active`: the active secret at delivery time signs every callback sent
after that. Setting the active secret `pending` leaves none: callbacks then carry an
empty `kore-signature`, as KORE documents for an account without a secret. The value is
shown once, at creation; it is kept sealed with the server's secret key, as auth tokens are,
since signing needs it in the clear.

An account "uses KORE's dialect" for its callbacks when it has an API client or a webhook
secret (`uses_kore_dialect`).

Deviation: KORE does not say what becomes of the active secret when another is created or
activated; fleetsim makes it `pending`, which keeps "one active at a time".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.credentials import new_token
from fleetsim.core.errors import InvalidParameter, NotFound
from fleetsim.core.sids import SidFactory
from fleetsim.db.paging import fetch_numbered_page
from fleetsim.db.secret_key import token_box
from fleetsim.db.tables import Account, WebhookSecret
from fleetsim.webhooks.secrets import SecretStatus

__all__ = [
    "SECRET_ID_PREFIX",
    "NewWebhookSecret",
    "SecretStatus",
    "create_webhook_secret",
    "fetch_webhook_secret",
    "list_webhook_secrets",
    "update_webhook_secret",
]

SECRET_ID_PREFIX = "whs_"  # noqa: S105 - an identifier prefix, not a secret


@dataclass(frozen=True)
class NewWebhookSecret:
    """A secret as created: the only moment its value is shown."""

    secret: WebhookSecret
    value: str


def _name(value: str) -> str:
    if not 0 < len(value) <= 64:
        raise InvalidParameter("Name", "must be 1 to 64 characters")
    if "\x00" in value:
        raise InvalidParameter("Name", "must not contain NUL characters")
    return value


def _status(value: str) -> SecretStatus:
    try:
        return SecretStatus(value)
    except ValueError:
        raise InvalidParameter("Status", "must be active or pending") from None


def _lock_secrets_of(session: Session, account: Account) -> None:
    """Take the account's row lock, so two nodes rotating at once keep one active secret
    (SQLite's single writer does the same by itself)."""
    session.execute(select(Account.id).where(Account.id == account.id).with_for_update())


def _activate(session: Session, account: Account, secret: WebhookSecret, clock: Clock) -> None:
    session.execute(
        update(WebhookSecret)
        .where(
            WebhookSecret.account_id == account.id,
            WebhookSecret.status == SecretStatus.ACTIVE,
            WebhookSecret.id != secret.id,
        )
        .values(status=SecretStatus.PENDING, last_modified=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    secret.status = SecretStatus.ACTIVE


def create_webhook_secret(
    session: Session, account: Account, *, name: str, clock: Clock, sids: SidFactory
) -> NewWebhookSecret:
    """A new secret, active from now on (the previous active one turns pending)."""
    _lock_secrets_of(session, account)
    value = new_token() + new_token()
    sid = sids.new_kore_id(SECRET_ID_PREFIX)
    now = clock.now()
    secret = WebhookSecret(
        sid=sid,
        account_id=account.id,
        name=_name(name),
        sealed_secret=token_box(session).seal(value, account_sid=sid),
        status=SecretStatus.ACTIVE,
        date_created=now,
        last_modified=now,
    )
    session.add(secret)
    session.flush()
    _activate(session, account, secret, clock)
    session.flush()
    return NewWebhookSecret(secret, value)


def list_webhook_secrets(
    session: Session, account: Account, *, status: str | None, number: int, size: int
) -> tuple[list[WebhookSecret], int]:
    query = select(WebhookSecret).where(WebhookSecret.account_id == account.id)
    if status is not None:
        query = query.where(WebhookSecret.status == _status(status))
    return fetch_numbered_page(session, query, WebhookSecret.id, number=number, size=size)


def fetch_webhook_secret(session: Session, account: Account, sid: str) -> WebhookSecret:
    secret = session.execute(
        select(WebhookSecret).where(
            WebhookSecret.account_id == account.id, WebhookSecret.sid == sid
        )
    ).scalar_one_or_none()
    if secret is None:
        raise NotFound(f"/v1/secrets/{sid}")
    return secret


def update_webhook_secret(
    session: Session,
    account: Account,
    sid: str,
    *,
    name: str | None,
    status: str | None,
    clock: Clock,
) -> WebhookSecret:
    """Rename a secret, or make it active (the active one turns pending) or pending."""
    _lock_secrets_of(session, account)
    secret = fetch_webhook_secret(session, account, sid)
    wanted = _status(status) if status is not None else None
    if name is not None:
        secret.name = _name(name)
    if wanted is SecretStatus.ACTIVE:
        _activate(session, account, secret, clock)
    elif wanted is SecretStatus.PENDING:
        secret.status = SecretStatus.PENDING
    secret.last_modified = clock.now()
    session.flush()
    return secret
