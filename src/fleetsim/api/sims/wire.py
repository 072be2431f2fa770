"""Sims on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetsim.db.store import stored_iso
from fleetsim.db.tables import Sim
from fleetsim.http.urls import Urls
from fleetsim.resources.sims.service import SimChanges, SimView

__all__ = ["SimView", "render_sim", "render_sim_view", "sim_changes", "sim_path"]


def sim_path(sid: str) -> str:
    return f"/v1/Sims/{sid}"


def sim_changes(params: Mapping[str, Any]) -> SimChanges:
    return SimChanges(
        unique_name=params.get("UniqueName"),
        fleet=params.get("Fleet"),
        account_sid=params.get("AccountSid"),
        status=params.get("Status"),
        callback_url=params.get("CallbackUrl"),
        callback_method=params.get("CallbackMethod"),
    )


def render_sim(sim: Sim, account_sid: str, urls: Urls) -> dict[str, Any]:
    fleet_sid = sim.fleet.sid if sim.fleet else None
    dates = (sim.date_created, sim.date_updated)
    view = SimView(sim.id, sim.sid, sim.unique_name, sim.iccid, sim.status, fleet_sid, *dates)
    return render_sim_view(view, account_sid, urls)


def render_sim_view(sim: SimView, account_sid: str, urls: Urls) -> dict[str, Any]:
    url = urls.absolute(sim_path(sim.sid))
    return {
        "sid": sim.sid,
        "unique_name": sim.unique_name,
        "account_sid": account_sid,
        "iccid": sim.iccid,
        "status": sim.status,
        "fleet_sid": sim.fleet_sid,
        "date_created": stored_iso(sim.created),
        "date_updated": stored_iso(sim.updated),
        "url": url,
        "links": {
            "billing_periods": f"{url}/BillingPeriods",
            "sim_ip_addresses": f"{url}/IpAddresses",
        },
    }
