"""Callback signatures: `X-Twilio-Signature` and KORE's `kore-signature`.

`X-Twilio-Signature` is computed exactly as Twilio computes it.
The string signed is the full URL followed by each parameter name and value, names sorted,
values of a name sorted, without separators; the signature is Base64 of HMAC-SHA1 keyed
with the account's auth token. GET callbacks carry their parameters in the URL and sign it
with no parameters. `twilio.request_validator.RequestValidator` accepts the result.

`kore-signature` is KORE's: the hex SHA-256 (a plain hash, not an HMAC) of the webhook
secret, the method, the callback URL without its query and fragment, and the raw body,
concatenated; with no secret, the header is sent empty.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

__all__ = ["KORE_SIGNATURE_HEADER", "SIGNATURE_HEADER", "kore_signature", "signature"]

SIGNATURE_HEADER = "X-Twilio-Signature"
KORE_SIGNATURE_HEADER = "kore-signature"


def signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(auth_token.encode(), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def kore_signature(secret: str | None, method: str, url: str, body: bytes) -> str:
    """KORE's signature of a callback; empty without a secret."""
    if secret is None:
        return ""
    parts = urlsplit(url)
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    signed = secret.encode() + method.upper().encode() + bare.encode() + body
    return hashlib.sha256(signed).hexdigest()
