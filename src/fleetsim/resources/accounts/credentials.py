"""Who a request acts for, from its `Authorization` header: the one place credentials of
the Super SIM API (and of KORE's client and webhook-secret APIs) are checked.

    Basic <Account SID:Auth Token>      Twilio's dialect (`authenticate`)
    Basic <API key SID:secret>          Twilio's dialect; refused (403) where keys are not
    Bearer <access token>               KORE's dialect (`account_of_token`), where accepted

Anything else, or nothing, is a 401 (20003) in the dialect of the header's scheme. APIs
that keep their own authentication (the Accounts API, the device API, the simulated
SM-DP+) refuse Bearer tokens with a 401 that says so.
"""

from __future__ import annotations

import base64
import binascii

from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.dialect import Dialect, dialect_of
from fleetsim.core.errors import AuthenticationFailed, CredentialNotAccepted
from fleetsim.db.tables import Account
from fleetsim.resources.accounts.service import authenticate
from fleetsim.resources.api_clients.service import account_of_token

__all__ = ["authenticate_request", "basic_credentials_of"]


def authenticate_request(
    session: Session,
    authorization: str | None,
    *,
    clock: Clock,
    api_keys: bool = True,
    bearer: bool = True,
) -> tuple[Account, Dialect]:
    """The account these credentials act for, and the dialect to answer in; 401 otherwise."""
    dialect = dialect_of(authorization)
    if dialect is Dialect.KORE and bearer:
        token = (authorization or "").strip()[len("bearer") :].strip()
        account = account_of_token(session, token, now=clock.now())
        if account is None:
            raise AuthenticationFailed()
        return account, dialect
    username, password = basic_credentials_of(authorization or "")
    return authenticate(session, username, password, api_keys=api_keys), dialect


def basic_credentials_of(header: str) -> tuple[str, str]:
    """Username and password of a Basic `Authorization` header; 401 when it is not one
    (saying so to a Bearer token)."""
    scheme, _, encoded = header.partition(" ")
    if dialect_of(header) is Dialect.KORE:
        raise CredentialNotAccepted(
            "this API takes HTTP Basic credentials; Bearer tokens are for the Super SIM API"
        )
    if scheme.lower() != "basic" or not encoded:
        raise AuthenticationFailed()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed() from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise AuthenticationFailed()
    return username, password
