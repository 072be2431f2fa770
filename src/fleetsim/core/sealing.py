"""Auth tokens at rest: sealed with AES-256-GCM under the server's secret key.

An account's auth token must be readable by the server (webhooks are signed with it), so
it cannot be hashed like an API key secret; it is encrypted instead. A sealed token reads
`fs1:<base64url(nonce | ciphertext | tag)>`; the account SID is the associated data, so a
sealed token copied onto another account's row does not open. Values without the prefix
are plaintext from before sealing (see migration 0006) and open as themselves.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SEALED_PREFIX", "SecretKeyError", "TokenBox", "is_sealed"]

SEALED_PREFIX = "fs1:"
MIN_SECRET_LENGTH = 16
_NONCE_BYTES = 12
_OPENED_KEPT = 10_000  # opened tokens remembered per box (one per active account)


class SecretKeyError(Exception):
    """The server's secret key is missing, too short, or not the one tokens were sealed
    with."""


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


class TokenBox:
    """Seals and opens tokens under one secret (any string of at least 16 characters;
    the AES key is its SHA-256, so equal secrets give equal keys on every node)."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise SecretKeyError(
                f"The secret key must be at least {MIN_SECRET_LENGTH} characters long"
            )
        digest = hashlib.sha256(b"fleetsim auth tokens\x00" + secret.encode()).digest()
        self._aead = AESGCM(digest)
        # Every request opens its account's token: opening (base64, AES-GCM) was 6% of the
        # samples of a direct Sim fetch. Keyed by the sealed value, so a changed token (a
        # new sealed value) is never answered from here; it holds nothing the key in this
        # process could not open anyway.
        self._opened: dict[tuple[str, str], str] = {}

    def seal(self, token: str, *, account_sid: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, token.encode(), account_sid.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, *, account_sid: str) -> str:
        if not is_sealed(stored):
            return stored
        opened = self._opened.get((stored, account_sid))
        if opened is None:
            opened = self._open(stored, account_sid)
            if len(self._opened) >= _OPENED_KEPT:
                self._opened.clear()
            self._opened[(stored, account_sid)] = opened
        return opened

    def _open(self, stored: str, account_sid: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX) :])
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], account_sid.encode())
        except (InvalidTag, binascii.Error, ValueError):
            # Never echo the stored value: the message reaches logs.
            raise SecretKeyError(
                f"The auth token of {account_sid} does not open with this server's secret "
                "key: every node must use the same FLEETSIM_SECRET_KEY"
            ) from None
        return plain.decode()
