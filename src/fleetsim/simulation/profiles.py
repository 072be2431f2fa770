"""Traffic profiles: how a kind of device uses data, as data.

A device of a profile reports telemetry every `telemetry_minutes` (one of the choices,
picked per device), each report uploading about `report_upload` bytes and downloading an
acknowledgement of about `report_download`; in any hour it may also make a burst (a
firmware or configuration download) with `burst_chance` (doubled in the daytime, 08-20
UTC); it roams to another network of its Fleet's Network Access Profile every
`roam_days` on average; and it drops off the network for a stretch (`outage_hours`) about
every `outage_days`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIXES", "PROFILES", "Profile", "profile_mix"]


@dataclass(frozen=True)
class Profile:
    name: str
    telemetry_minutes: tuple[int, ...]
    report_upload: tuple[int, int]
    report_download: tuple[int, int]
    burst_chance: float
    burst_download: tuple[int, int]
    burst_upload: tuple[int, int]
    roam_days: float
    outage_days: float
    outage_hours: tuple[int, int]


TELEMETRY = Profile(
    name="telemetry",
    telemetry_minutes=(5, 10, 15, 30, 60),
    report_upload=(200, 1_200),
    report_download=(40, 120),
    burst_chance=0.002,
    burst_download=(20_000, 200_000),
    burst_upload=(500, 2_000),
    roam_days=5.0,
    outage_days=20.0,
    outage_hours=(2, 36),
)

BURSTY = Profile(
    name="bursty",
    telemetry_minutes=(60, 120, 240),
    report_upload=(100, 600),
    report_download=(40, 100),
    burst_chance=0.04,
    burst_download=(200_000, 5_000_000),
    burst_upload=(5_000, 200_000),
    roam_days=3.0,
    outage_days=10.0,
    outage_hours=(1, 12),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (TELEMETRY, BURSTY)}

# `mixed`: each device is one of the profiles, with these weights.
MIXES: dict[str, tuple[tuple[Profile, float], ...]] = {
    "telemetry": ((TELEMETRY, 1.0),),
    "bursty": ((BURSTY, 1.0),),
    "mixed": ((TELEMETRY, 0.7), (BURSTY, 0.3)),
}


def profile_mix(name: str) -> tuple[tuple[Profile, float], ...]:
    """The profiles (with weights) the `--profile` name stands for."""
    try:
        return MIXES[name]
    except KeyError:
        raise ValueError(
            f"unknown profile {name!r}: choose one of {', '.join(sorted(MIXES))}"
        ) from None
