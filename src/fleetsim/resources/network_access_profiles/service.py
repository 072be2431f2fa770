"""Network Access Profiles: which networks the Sims of a Fleet may use.

Deviations (Twilio's answers are unconfirmed): a duplicate UniqueName answers 409/20409;
an unknown or repeated Network answers 400/20001 naming the parameter; adding a Network
the profile already has answers 409/20409; removing one it lacks answers 404/20404.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fleetsim.core.clock import Clock
from fleetsim.core.errors import Conflict, InvalidParameter, NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, SidFactory, canonical_sid, is_sid
from fleetsim.db.integrity import UniqueRule, flush_unique
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.scoping import find_by_ref, owned
from fleetsim.db.store import Tx
from fleetsim.db.tables import Account, Network, NetworkAccessProfile, NetworkAccessProfileNetwork
from fleetsim.network.networks import find_network, with_identifiers
from fleetsim.resources.naming import clean_unique_name

__all__ = [
    "add_network",
    "create_network_access_profile",
    "fetch_network_access_profile",
    "fetch_profile_network",
    "find_network_access_profile",
    "list_network_access_profiles",
    "list_profile_networks",
    "remove_network",
    "update_network_access_profile",
]


def _unique_name_rule(unique_name: str | None) -> UniqueRule:
    return (
        "network_access_profiles",
        ("account_id", "unique_name"),
        lambda: Conflict(
            f"A Network Access Profile with UniqueName '{unique_name}' already exists"
        ),
    )


def find_network_access_profile(
    session: Session, account: Account, ref: str
) -> NetworkAccessProfile | None:
    return find_by_ref(
        session, NetworkAccessProfile, account.id, ref, Prefix.NETWORK_ACCESS_PROFILE
    )


def fetch_network_access_profile(
    session: Session, account: Account, ref: str
) -> NetworkAccessProfile:
    profile = find_network_access_profile(session, account, ref)
    if profile is None:
        raise NotFound(f"/NetworkAccessProfiles/{ref}")
    return profile


def create_network_access_profile(
    tx: Tx,
    account: Account,
    *,
    unique_name: str | None,
    networks: Sequence[str],
    clock: Clock,
    sids: SidFactory,
) -> NetworkAccessProfile:
    """Create a profile, optionally with its first networks."""
    network_ids = _network_ids(tx, networks)
    now = clock.now()
    values = {
        "sid": sids.new(Prefix.NETWORK_ACCESS_PROFILE),
        "account_id": account.id,
        "unique_name": clean_unique_name(unique_name, Prefix.NETWORK_ACCESS_PROFILE),
        "date_created": now,
        "date_updated": now,
    }
    # Without networks the profile is the unit's only write (see `Tx.insert`'s `last`).
    rule = _unique_name_rule(unique_name)
    profile = tx.insert(NetworkAccessProfile, values, rule, last=not network_ids)
    for network_id in network_ids:
        membership = {"network_access_profile_id": profile.id, "network_id": network_id}
        tx.insert(NetworkAccessProfileNetwork, membership)
    return profile


_NETWORK_ID_SQL = "SELECT id FROM networks WHERE sid = ?"


def _network_ids(tx: Tx, sids: Sequence[str]) -> list[int]:
    """The ids of the catalogue networks `sids`, each named once; 400 naming the first
    that is not."""
    resolved: list[int] = []
    for sid in sids:
        # The catalogue is shared and read-only: read each network once per transaction.
        found = None
        if is_sid(sid, Prefix.NETWORK):
            found = tx.settled(_NETWORK_ID_SQL, (canonical_sid(sid, Prefix.NETWORK),))
        if found is None:
            raise InvalidParameter("Networks", f"no Network has the SID '{sid}'")
        if found[0] in resolved:
            raise InvalidParameter("Networks", f"'{sid}' is listed more than once")
        resolved.append(found[0])
    return resolved


def list_network_access_profiles(
    session: Session, account: Account, *, page: PageRequest
) -> Page[NetworkAccessProfile]:
    query = owned(NetworkAccessProfile, account.id)
    return fetch_page(session, query, NetworkAccessProfile.id, page)


def update_network_access_profile(
    session: Session, account: Account, ref: str, *, unique_name: str | None, clock: Clock
) -> NetworkAccessProfile:
    """Rename a profile (the only mutable field); None keeps the name, "" clears it."""
    profile = fetch_network_access_profile(session, account, ref)
    if unique_name is not None:
        profile.unique_name = clean_unique_name(unique_name, Prefix.NETWORK_ACCESS_PROFILE)
    profile.date_updated = clock.now()
    flush_unique(session, [_unique_name_rule(unique_name)])
    return profile


def _profile_network_query(profile: NetworkAccessProfile) -> Select[Network]:
    return with_identifiers(
        select(Network)
        .join(NetworkAccessProfileNetwork, NetworkAccessProfileNetwork.network_id == Network.id)
        .where(NetworkAccessProfileNetwork.network_access_profile_id == profile.id)
    )


def list_profile_networks(
    session: Session, account: Account, ref: str, *, page: PageRequest
) -> tuple[NetworkAccessProfile, Page[Network]]:
    """The profile's networks, in catalogue order."""
    profile = fetch_network_access_profile(session, account, ref)
    return profile, fetch_page(session, _profile_network_query(profile), Network.id, page)


def fetch_profile_network(
    session: Session, account: Account, ref: str, network_sid: str
) -> tuple[NetworkAccessProfile, Network]:
    profile = fetch_network_access_profile(session, account, ref)
    network = find_network(session, network_sid)
    if network is None or _membership(session, profile, network) is None:
        raise NotFound(f"/NetworkAccessProfiles/{ref}/Networks/{network_sid}")
    return profile, network


def add_network(
    session: Session, account: Account, ref: str, *, network_sid: str, clock: Clock
) -> tuple[NetworkAccessProfile, Network]:
    profile = fetch_network_access_profile(session, account, ref)
    network = find_network(session, network_sid)
    if network is None:
        raise InvalidParameter("Network", f"no Network has the SID '{network_sid}'")
    sid = network.sid  # read now: a failed flush expires the loaded rows
    session.add(
        NetworkAccessProfileNetwork(network_access_profile_id=profile.id, network_id=network.id)
    )
    profile.date_updated = clock.now()
    flush_unique(
        session,
        [
            (
                "nap_networks",
                ("network_access_profile_id", "network_id"),
                lambda: Conflict(f"Network {sid} is already in this Network Access Profile"),
            )
        ],
    )
    return profile, network


def remove_network(
    session: Session, account: Account, ref: str, network_sid: str, *, clock: Clock
) -> None:
    profile = fetch_network_access_profile(session, account, ref)
    network = find_network(session, network_sid)
    membership = None if network is None else _membership(session, profile, network)
    if membership is None:
        raise NotFound(f"/NetworkAccessProfiles/{ref}/Networks/{network_sid}")
    session.delete(membership)
    profile.date_updated = clock.now()
    session.flush()


def _membership(
    session: Session, profile: NetworkAccessProfile, network: Network
) -> NetworkAccessProfileNetwork | None:
    return session.execute(
        select(NetworkAccessProfileNetwork).where(
            NetworkAccessProfileNetwork.network_access_profile_id == profile.id,
            NetworkAccessProfileNetwork.network_id == network.id,
        )
    ).scalar_one_or_none()
