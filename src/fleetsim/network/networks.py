"""Networks: the catalogue of real cellular networks the simulated network offers, which
every account shares (read-only)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from fleetsim.core.errors import NotFound
from fleetsim.core.paging import PageRequest
from fleetsim.core.sids import Prefix, canonical_sid, is_sid
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.tables import Network, NetworkIdentifier

__all__ = ["fetch_network", "find_network", "list_networks", "with_identifiers"]


def with_identifiers(query: Select[Network]) -> Select[Network]:
    return query.options(selectinload(Network.identifiers))


def find_network(session: Session, sid: str) -> Network | None:
    """The catalogue network with this SID, or None (also for strings that are not SIDs)."""
    if not is_sid(sid, Prefix.NETWORK):
        return None
    query = with_identifiers(
        select(Network).where(Network.sid == canonical_sid(sid, Prefix.NETWORK))
    )
    return session.execute(query).scalar_one_or_none()


def fetch_network(session: Session, sid: str) -> Network:
    network = find_network(session, sid)
    if network is None:
        raise NotFound(f"/Networks/{sid}")
    return network


def list_networks(
    session: Session,
    *,
    iso_country: str | None,
    mcc: str | None,
    mnc: str | None,
    page: PageRequest,
) -> Page[Network]:
    """Networks, filtered; Mcc and Mnc must match the same identifier of a network.

    Deviation: IsoCountry matches case-insensitively (Twilio's behaviour is unconfirmed).
    """
    query = with_identifiers(select(Network))
    if iso_country is not None:
        query = query.where(Network.iso_country == iso_country.upper())
    if mcc is not None or mnc is not None:
        match = select(NetworkIdentifier.network_id)
        if mcc is not None:
            match = match.where(NetworkIdentifier.mcc == mcc)
        if mnc is not None:
            match = match.where(NetworkIdentifier.mnc == mnc)
        query = query.where(Network.id.in_(match))
    return fetch_page(session, query, Network.id, page)
