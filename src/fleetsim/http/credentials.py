"""Who a request acts for, from its `Authorization` header: the one place credentials of
the Super SIM API (and of KORE's client and webhook-secret APIs) are checked.

    Basic <Account SID:Auth Token>      Twilio's dialect (`authenticate`)
    Basic <API key SID:secret>          Twilio's dialect; refused (403) where keys are not
    Bearer <access token>               KORE's dialect (`account_of_token`), where accepted

Anything else, or nothing, is a 401 (20003) in the dialect of the header's scheme. APIs
that keep their own authentication (the Accounts API, the device API, the simulated
SM-DP+) refuse Bearer tokens with a 401 that says so.

The header is read (`credentials_of`) before the request's body, so a request without
usable credentials is refused before anything else is looked at; the account is found
(`authenticate_credentials`) in the request's transaction.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from fleetsim.core.clock import Clock
from fleetsim.core.dialect import Dialect, dialect_of
from fleetsim.core.errors import AuthenticationFailed, CredentialNotAccepted
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account
from fleetsim.resources.accounts.service import authenticate
from fleetsim.resources.api_clients.service import account_of_token

__all__ = [
    "Credentials",
    "authenticate_credentials",
    "authenticate_request",
    "basic_credentials_of",
    "credentials_of",
]


@dataclass(frozen=True)
class Credentials:
    """What an `Authorization` header holds: Basic's username and password, or a token."""

    dialect: Dialect
    username: str = ""
    password: str = ""
    token: str = ""


def credentials_of(authorization: str | None, *, bearer: bool = True) -> Credentials:
    """The credentials of a header; 401 when it holds none (or a Bearer token where
    `bearer` is False, saying so)."""
    if bearer and dialect_of(authorization) is Dialect.KORE:
        token = (authorization or "").strip()[len("bearer") :].strip()
        return Credentials(Dialect.KORE, token=token)
    username, password = basic_credentials_of(authorization or "")
    return Credentials(Dialect.TWILIO, username=username, password=password)


def authenticate_credentials(
    tx: Tx, credentials: Credentials, *, clock: Clock, api_keys: bool = True
) -> Account:
    """The account `credentials` act for; 401 otherwise."""
    if credentials.dialect is Dialect.KORE:
        account = account_of_token(tx, credentials.token, now=clock.now())
        if account is None:
            raise AuthenticationFailed()
        return account
    return authenticate(tx, credentials.username, credentials.password, api_keys=api_keys)


def authenticate_request(
    tx: Tx,
    authorization: str | None,
    *,
    clock: Clock,
    api_keys: bool = True,
    bearer: bool = True,
) -> tuple[Account, Dialect]:
    """The account these credentials act for, and the dialect to answer in; 401 otherwise."""
    credentials = credentials_of(authorization, bearer=bearer)
    account = authenticate_credentials(tx, credentials, clock=clock, api_keys=api_keys)
    return account, credentials.dialect


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
