"""The operator credential: Basic auth `operator:<token>` for the control API.

The token is made on first start (and printed then) or taken from FLEETSIM_OPERATOR_TOKEN;
only a salted hash is stored, so it cannot be shown again.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.credentials import hash_secret, new_salt, new_token, same_secret
from fleetsim.core.errors import AuthenticationFailed, InvalidParameter
from fleetsim.db.tables import OperatorCredential

__all__ = ["OPERATOR", "authenticate_operator", "ensure_operator"]

OPERATOR = "operator"


def ensure_operator(session: Session, *, token: str | None, clock: Clock) -> str | None:
    """Make sure the operator credential exists (with `token` when given); return the
    token when it was made now, else None."""
    if token is not None and (len(token) < 16 or not token.isalnum()):
        raise InvalidParameter("FLEETSIM_OPERATOR_TOKEN", "must be at least 16 letters or digits")
    row = session.execute(
        select(OperatorCredential).where(OperatorCredential.username == OPERATOR)
    ).scalar_one_or_none()
    if row is not None and (
        token is None or same_secret(hash_secret(token, row.secret_salt), row.secret_hash)
    ):
        return None
    made = token or new_token()
    salt = new_salt()
    if row is None:
        row = OperatorCredential(username=OPERATOR, date_created=clock.now())
        session.add(row)
    row.secret_salt = salt
    row.secret_hash = hash_secret(made, salt)
    session.flush()
    return made if token is None else None


def authenticate_operator(session: Session, username: str, password: str) -> None:
    row = session.execute(
        select(OperatorCredential).where(OperatorCredential.username == username)
    ).scalar_one_or_none()
    salt, expected = (row.secret_salt, row.secret_hash) if row else ("0" * 32, "0" * 64)
    if not same_secret(hash_secret(password, salt), expected) or row is None:
        raise AuthenticationFailed()
