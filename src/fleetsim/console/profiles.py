"""Network Access Profiles: list, create, rename, add and remove networks.

GET  /console/network-access-profiles                      list and the create form
POST /console/network-access-profiles                      create
GET  /console/network-access-profiles/{Profile}            its networks and Fleets
POST /console/network-access-profiles/{Profile}            rename
POST /console/network-access-profiles/{Profile}/networks   add a network
POST /console/network-access-profiles/{Profile}/networks/{Network}/remove
"""

from __future__ import annotations

from starlette.routing import Route

from fleetsim.console.base import Html, Redirect, Visit, action, page
from fleetsim.core.paging import PageRequest
from fleetsim.db.store import Tx
from fleetsim.db.tables import Network
from fleetsim.network.networks import list_networks
from fleetsim.resources.fleets.service import list_fleets
from fleetsim.resources.network_access_profiles.service import (
    add_network,
    create_network_access_profile,
    list_network_access_profiles,
    list_profile_networks,
    remove_network,
    update_network_access_profile,
)

__all__ = ["PROFILE_ROUTES"]

BASE = "/console/network-access-profiles"
ALL = PageRequest(page_size=1000)


def _catalogue(visit: Visit) -> list[Network]:
    """The networks to choose from, of one country when the visitor picked one."""
    country = visit.arg("country")
    return list(
        list_networks(visit.session, iso_country=country, mcc=None, mnc=None, page=ALL).items
    )


@page
def profiles(visit: Visit) -> Html:
    found = list_network_access_profiles(visit.session, visit.account, page=visit.page_request())
    return visit.html(
        "profiles.html", profiles=found, networks=_catalogue(visit), country=visit.arg("country")
    )


@action
def create(visit: Visit) -> Redirect:
    profile = create_network_access_profile(
        Tx.of(visit.session),
        visit.account,
        unique_name=visit.arg("unique_name"),
        networks=[n for n in visit.args("network") if n],
        clock=visit.clock,
        sids=visit.sids,
    )
    return Redirect(f"{BASE}/{profile.sid}")


@page
def profile(visit: Visit) -> Html:
    found, networks = list_profile_networks(
        visit.session, visit.account, visit.path["sid"], page=ALL
    )
    fleets = list_fleets(visit.session, visit.account, network_access_profile=found.sid, page=ALL)
    return visit.html(
        "profile.html",
        profile=found,
        networks=networks.items,
        fleets=fleets.items,
        catalogue=_catalogue(visit),
        country=visit.arg("country"),
    )


@action
def rename(visit: Visit) -> Redirect:
    found = update_network_access_profile(
        visit.session,
        visit.account,
        visit.path["sid"],
        unique_name=visit.arg("unique_name") or "",
        clock=visit.clock,
    )
    return Redirect(f"{BASE}/{found.sid}")


@action
def add(visit: Visit) -> Redirect:
    found, _ = add_network(
        visit.session,
        visit.account,
        visit.path["sid"],
        network_sid=visit.arg("network") or "",
        clock=visit.clock,
    )
    return Redirect(f"{BASE}/{found.sid}")


@action
def remove(visit: Visit) -> Redirect:
    remove_network(
        visit.session, visit.account, visit.path["sid"], visit.path["network"], clock=visit.clock
    )
    return Redirect(f"{BASE}/{visit.path['sid']}")


PROFILE_ROUTES = [
    Route(BASE, profiles, methods=["GET"], name="console_profiles"),
    Route(BASE, create, methods=["POST"], name="console_create_profile"),
    Route(BASE + "/{sid}", profile, methods=["GET"], name="console_profile"),
    Route(BASE + "/{sid}", rename, methods=["POST"], name="console_rename_profile"),
    Route(BASE + "/{sid}/networks", add, methods=["POST"], name="console_add_network"),
    Route(
        BASE + "/{sid}/networks/{network}/remove",
        remove,
        methods=["POST"],
        name="console_remove_network",
    ),
]
