"""Networks on the wire."""

from __future__ import annotations

from typing import Any

from fleetsim.db.tables import Network
from fleetsim.http.urls import Urls

__all__ = ["network_path", "render_network"]


def network_path(sid: str) -> str:
    return f"/v1/Networks/{sid}"


def render_identifiers(network: Network) -> list[dict[str, str]]:
    return [{"mcc": i.mcc, "mnc": i.mnc} for i in network.identifiers]


def render_network(network: Network, urls: Urls) -> dict[str, Any]:
    return {
        "friendly_name": network.friendly_name,
        "iso_country": network.iso_country,
        "identifiers": render_identifiers(network),
        "sid": network.sid,
        "url": urls.absolute(network_path(network.sid)),
    }
