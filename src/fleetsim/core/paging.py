"""Keyset paging: a page costs the same wherever it is in the list.

A `PageToken` is opaque to clients. It carries the direction (`PA`: after, `PB`: before,
Twilio's convention) and the sort key of the row at the page edge, Base64-encoded. Every
query is also scoped by account, so a forged token can shift a page but never reveal
another account's rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fleetsim.core.errors import InvalidPageToken

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "PAGING_PARAMETERS", "Cursor", "PageRequest"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# The query parameters of paging, which every list operation has beside its filters.
PAGING_PARAMETERS = frozenset({"PageSize", "Page", "PageToken"})
_MAX_TOKEN_LENGTH = 512
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

KeyValue = int | str


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: rows strictly after (or before) `key`."""

    direction: Literal["after", "before"]
    key: tuple[KeyValue, ...]

    def encode(self) -> str:
        raw = json.dumps(list(self.key), separators=(",", ":")).encode()
        prefix = "PA" if self.direction == "after" else "PB"
        return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, types: tuple[type[int] | type[str], ...]) -> Cursor:
        """Parse a token made by `encode` for a key of these value types; 21481 otherwise."""
        if len(token) > _MAX_TOKEN_LENGTH or token[:2] not in ("PA", "PB"):
            raise InvalidPageToken()
        body = token[2:]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            key = json.loads(raw)
        except (binascii.Error, ValueError):
            raise InvalidPageToken() from None
        if not isinstance(key, list) or len(key) != len(types):
            raise InvalidPageToken()
        for value, kind in zip(key, types, strict=True):
            if type(value) is not kind:
                raise InvalidPageToken()
            if isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX:
                raise InvalidPageToken()
        return cls("after" if token[:2] == "PA" else "before", tuple(key))


@dataclass(frozen=True)
class PageRequest:
    """The paging parameters of a list request, already validated."""

    page_size: int = DEFAULT_PAGE_SIZE
    page: int = 0
    token: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PageRequest:
        """From an operation's parsed `PageSize`, `Page` and `PageToken`."""
        return cls(
            page_size=params.get("PageSize", DEFAULT_PAGE_SIZE),
            page=params.get("Page", 0),
            token=params.get("PageToken"),
        )
