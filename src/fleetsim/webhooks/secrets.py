"""Which callbacks are signed in KORE's dialect, and with which secret.

The webhook secrets themselves are managed through KORE's secrets API
(`fleetsim.resources.webhook_secrets`); signing callbacks only reads them.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fleetsim.db.secret_key import token_box
from fleetsim.db.tables import ApiClient, WebhookSecret

__all__ = ["SecretStatus", "active_secret", "uses_kore_dialect"]


class SecretStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"


def active_secret(session: Session, account_id: int) -> str | None:
    """The value of the account's active secret, if it has one."""
    row = session.execute(
        select(WebhookSecret.sid, WebhookSecret.sealed_secret)
        .where(WebhookSecret.account_id == account_id, WebhookSecret.status == SecretStatus.ACTIVE)
        .order_by(WebhookSecret.last_modified.desc(), WebhookSecret.id.desc())
    ).first()
    if row is None:
        return None
    return token_box(session).open(row.sealed_secret, account_sid=row.sid)


def uses_kore_dialect(session: Session, account_id: int) -> bool:
    """Whether the account's callbacks are sent in KORE's dialect: it has an API client
    or a webhook secret."""
    return bool(
        session.execute(
            select(
                exists().where(ApiClient.account_id == account_id)
                | exists().where(WebhookSecret.account_id == account_id)
            )
        ).scalar()
    )
