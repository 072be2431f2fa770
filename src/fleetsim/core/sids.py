"""SIDs: a two-letter prefix and 32 lowercase hex digits, from one seedable factory; and
KORE's identifiers (`apiclient_…`, `whs_…`: a prefix and 26 lowercase base-32 characters,
like a ULID) from the same factory.

Deviation: an unseeded factory's SIDs begin with the time they were made, as UUIDv7s do
(12 hex digits of milliseconds since 1970, then 80 random bits), so that SIDs made later
sort later. Each table's SID index then takes its new rows at its end, on the few pages
already written there, instead of one random page of a large index per row: less to
write at each commit, on SQLite and PostgreSQL alike. Twilio's SIDs show no such order;
the shape is the same, and a client can no more rely on the order than on the digits.
A seeded factory (`fleetsim serve --seed`, `POST /control/sids/seed`) stays all random,
so that a seed repeats its SIDs whenever it runs."""

from __future__ import annotations

import random
import re
import secrets
import threading
import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["Prefix", "SidFactory", "canonical_sid", "is_sid"]


class Prefix(StrEnum):
    ACCOUNT = "AC"
    API_KEY = "SK"
    SIM = "HS"
    FLEET = "HF"
    NETWORK_ACCESS_PROFILE = "HA"
    NETWORK = "HW"
    BILLING_PERIOD = "HB"
    IP_COMMAND = "HG"
    SMS_COMMAND = "HC"
    ESIM_PROFILE = "HP"
    SETTINGS_UPDATE = "OB"
    CONNECTION_EVENT = "EZ"
    DATA_SESSION = "PI"


# Crockford's base 32, as ULIDs use, in lower case as KORE's examples show it.
_BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"
_KORE_ID_LENGTH = 26

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")


def is_sid(value: str, prefix: Prefix) -> bool:
    """True when `value` has the shape of a SID with `prefix` (hex in either case)."""
    return value.startswith(prefix.value) and _SID.match(value) is not None


def canonical_sid(value: str, prefix: Prefix) -> str:
    """A SID as stored (hex in lower case), from one that `is_sid` accepted."""
    return prefix.value + value[2:].lower()


def _wall_milliseconds() -> int:
    return time.time_ns() // 1_000_000


class SidFactory:
    """Makes SIDs; seeded factories repeat the same sequence, unseeded ones are the time
    (`milliseconds`, the wall clock's by default) and random bits (see the module)."""

    def __init__(
        self, seed: int | None = None, *, milliseconds: Callable[[], int] = _wall_milliseconds
    ) -> None:
        self._lock = threading.Lock()
        self._milliseconds = milliseconds
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._random = random.Random(seed) if seed is not None else None

    def new(self, prefix: Prefix) -> str:
        with self._lock:
            if self._random is None:
                made = self._milliseconds() & 0xFFFF_FFFF_FFFF  # 12 hex digits
                return f"{prefix.value}{made:012x}{secrets.token_hex(10)}"
            return prefix.value + f"{self._random.getrandbits(128):032x}"

    def new_kore_id(self, prefix: str) -> str:
        """A KORE identifier: `prefix` and 26 base-32 characters (130 random bits)."""
        with self._lock:
            bits = self._random.getrandbits(130) if self._random else secrets.randbits(130)
        chars = [_BASE32[(bits >> (5 * i)) & 31] for i in range(_KORE_ID_LENGTH)]
        return prefix + "".join(reversed(chars))
