"""Unique names: the alternative to SIDs for addressing Sims, Fleets and profiles."""

from __future__ import annotations

from fleetsim.core.errors import InvalidParameter
from fleetsim.core.sids import Prefix, is_sid

__all__ = ["clean_unique_name"]

MAX_UNIQUE_NAME = 256


def clean_unique_name(value: str | None, prefix: Prefix) -> str | None:
    """The unique name to store: None clears it; one that looks like a SID is refused.

    A unique name shaped like a SID of the same resource could never be addressed, since
    references of that shape are read as SIDs.
    """
    if value is None or value == "":
        return None
    if is_sid(value, prefix):
        raise InvalidParameter("UniqueName", "must not look like a SID")
    if len(value) > MAX_UNIQUE_NAME:
        raise InvalidParameter("UniqueName", f"longer than {MAX_UNIQUE_NAME} characters")
    return value
