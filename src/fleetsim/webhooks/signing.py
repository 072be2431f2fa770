"""`X-Twilio-Signature`, computed exactly as Twilio computes it.

The string signed is the full URL followed by each parameter name and value, names sorted,
values of a name sorted, without separators; the signature is Base64 of HMAC-SHA1 keyed
with the account's auth token. GET callbacks carry their parameters in the URL and sign it
with no parameters. `twilio.request_validator.RequestValidator` accepts the result.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

__all__ = ["SIGNATURE_HEADER", "signature"]

SIGNATURE_HEADER = "X-Twilio-Signature"


def signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(auth_token.encode(), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
