"""Auth tokens and API key secrets.

Tokens and secrets are 32 random hex characters, as Twilio's are (twilio-go rejects
anything but alphanumerics). API key secrets are kept only as a salted SHA-256: the
secrets are 128 random bits, so a slow password hash would buy nothing and cost every
request. Comparisons run in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["hash_secret", "new_salt", "new_token", "same_secret"]


def new_token() -> str:
    return secrets.token_hex(16)


def new_salt() -> str:
    return secrets.token_hex(16)


def hash_secret(secret: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
