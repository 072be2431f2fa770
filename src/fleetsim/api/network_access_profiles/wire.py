"""Network Access Profiles and their Networks on the wire."""

from __future__ import annotations

from typing import Any

from fleetsim.api.networks.wire import render_identifiers
from fleetsim.core.dates import iso
from fleetsim.db.tables import Network, NetworkAccessProfile
from fleetsim.http.urls import Urls

__all__ = ["profile_networks_path", "profile_path", "render_profile", "render_profile_network"]


def profile_path(sid: str) -> str:
    return f"/v1/NetworkAccessProfiles/{sid}"


def profile_networks_path(sid: str) -> str:
    return f"{profile_path(sid)}/Networks"


def render_profile(profile: NetworkAccessProfile, account_sid: str, urls: Urls) -> dict[str, Any]:
    return {
        "unique_name": profile.unique_name,
        "sid": profile.sid,
        "account_sid": account_sid,
        "date_created": iso(profile.date_created),
        "date_updated": iso(profile.date_updated),
        "url": urls.absolute(profile_path(profile.sid)),
        "links": {"networks": urls.absolute(profile_networks_path(profile.sid))},
    }


def render_profile_network(
    profile: NetworkAccessProfile, network: Network, urls: Urls
) -> dict[str, Any]:
    """Deviation: `iso_country` is upper-case, as in the catalogue (a Twilio fixture shows
    lower-case here, which looks accidental)."""
    return {
        "sid": network.sid,
        "network_access_profile_sid": profile.sid,
        "friendly_name": network.friendly_name,
        "iso_country": network.iso_country,
        "identifiers": render_identifiers(network),
        "url": urls.absolute(f"{profile_networks_path(profile.sid)}/{network.sid}"),
    }
