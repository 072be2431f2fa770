"""Which vendor's conventions a request is answered in: Twilio's or KORE's.

Super SIM moved from Twilio to KORE Wireless. The operations and JSON are the same; the
credential, the documentation host of errors, some `PageSize` limits and the accepted body
encodings differ. The dialect follows the credential: a request with a Bearer token (KORE's
OAuth 2.0 client credentials) is answered in KORE's dialect, every other request (HTTP
Basic, or none) in Twilio's.

Deviation: KORE does not say how it answers a Basic credential; fleetsim keeps serving
Twilio's dialect to it, so Twilio's SDKs keep working beside KORE's clients.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Dialect", "dialect_of"]


class Dialect(StrEnum):
    TWILIO = "twilio"
    KORE = "kore"

    @property
    def more_info(self) -> str:
        """The documentation URL of an error code, `{code}` to fill."""
        if self is Dialect.KORE:
            return "https://docs.korewireless.com/errors/{code}"
        return "https://www.twilio.com/docs/errors/{code}"

    @property
    def auth_challenge(self) -> str:
        """The `WWW-Authenticate` header of a 401."""
        return 'Bearer realm="fleetsim"' if self is Dialect.KORE else 'Basic realm="fleetsim"'


def dialect_of(authorization: str | None) -> Dialect:
    """The dialect of a request with this `Authorization` header (its scheme alone)."""
    scheme = (authorization or "").lstrip().partition(" ")[0]
    return Dialect.KORE if scheme.lower() == "bearer" else Dialect.TWILIO
