"""Console sessions: who is signed in, kept in a signed cookie, never in server memory.

The cookie holds the account SID, whether the operator signed in, a mark of the
credential used (an HMAC of the auth token or of the operator's stored hash, so that a
new token signs everyone out) and an expiry; it is signed with HMAC-SHA256 under the
console secret: FLEETSIM_CONSOLE_SECRET, else a random one made once and kept in the
database, so every node of a cluster reads the same. Forms carry a CSRF token derived
from the cookie (a POST without it changes nothing).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fleetsim.db.tables import ConsoleSecret

__all__ = [
    "COOKIE",
    "SECRET_ENV",
    "SESSION_SECONDS",
    "SignedIn",
    "csrf_token",
    "ensure_secret",
    "load_secret",
    "mark",
    "read_cookie",
    "same_csrf",
    "sign_cookie",
]

COOKIE = "fleetsim_console"
SECRET_ENV = "FLEETSIM_CONSOLE_SECRET"  # noqa: S105 - a variable name, not a secret
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class SignedIn:
    account_sid: str
    operator: bool
    credential_mark: str
    expires: int  # Unix seconds (real time: a session ages even on a manual clock)


def load_secret(session: Session) -> bytes | None:
    """The console secret, or None before anyone signed in (and no environment secret)."""
    configured = os.environ.get(SECRET_ENV)
    if configured:
        return configured.encode()
    stored = session.execute(select(ConsoleSecret.secret).where(ConsoleSecret.id == 1)).scalar()
    return stored.encode() if stored else None


def ensure_secret(session: Session, *, now: dt.datetime) -> bytes:
    """The console secret, made now if there is none yet (two nodes racing: one wins)."""
    existing = load_secret(session)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(ConsoleSecret(id=1, secret=secrets.token_hex(32), date_created=now))
    except IntegrityError:
        pass
    secret = load_secret(session)
    assert secret is not None
    return secret


def mark(secret: bytes, credential: str) -> str:
    """A stand-in for a credential in the cookie: it changes when the credential does."""
    return hmac.new(secret, f"mark|{credential}".encode(), hashlib.sha256).hexdigest()[:24]


def _signature(secret: bytes, body: str) -> str:
    return hmac.new(secret, f"session|{body}".encode(), hashlib.sha256).hexdigest()


def sign_cookie(secret: bytes, signed_in: SignedIn) -> str:
    payload = {
        "a": signed_in.account_sid,
        "o": signed_in.operator,
        "m": signed_in.credential_mark,
        "e": signed_in.expires,
    }
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return f"{body}.{_signature(secret, body)}"


def read_cookie(secret: bytes, value: str | None, *, now_seconds: float) -> SignedIn | None:
    """The session in a cookie, if its signature holds and it has not expired."""
    if not value or "." not in value or len(value) > 1024:
        return None
    body, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _signature(secret, body).encode()):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body.encode()))
        signed_in = SignedIn(
            str(payload["a"]), bool(payload["o"]), str(payload["m"]), int(payload["e"])
        )
    except (ValueError, KeyError, TypeError):
        return None
    return signed_in if signed_in.expires > now_seconds else None


def csrf_token(secret: bytes, cookie: str) -> str:
    return hmac.new(secret, f"csrf|{cookie}".encode(), hashlib.sha256).hexdigest()[:32]


def same_csrf(secret: bytes, cookie: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(
        given.encode(), csrf_token(secret, cookie).encode()
    )
