"""Keyset paging over a real query, on both backends: every row exactly once, in order,
following next pages forward and previous pages back, ascending (the default) and
descending."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetsim.core.paging import PageRequest
from fleetsim.db.paging import Page, fetch_page
from fleetsim.db.tables import Network

QUERY = select(Network).where(Network.iso_country == "US")


def ids(page: Page[Network]) -> list[int]:
    return [n.id for n in page.items]


def walk(session: Session, *, size: int, descending: bool) -> list[Page[Network]]:
    """Every page from the first, following `next`."""
    pages = [fetch_page(session, QUERY, Network.id, PageRequest(size), descending=descending)]
    while pages[-1].next is not None:
        token = pages[-1].next.encode()
        pages.append(
            fetch_page(
                session, QUERY, Network.id, PageRequest(size, token=token), descending=descending
            )
        )
    return pages


@pytest.mark.parametrize("descending", [False, True])
def test_pages_cover_every_row_once_in_order(session: Session, descending: bool) -> None:
    every = sorted(n.id for n in session.execute(QUERY).scalars())
    assert len(every) > 7, "the catalogue has more US networks than this"
    expected = list(reversed(every)) if descending else every

    pages = walk(session, size=3, descending=descending)
    assert [i for page in pages for i in ids(page)] == expected
    assert pages[0].previous is None
    assert pages[-1].next is None
    assert all(len(ids(page)) == 3 for page in pages[:-1])

    # Back from the last page, `previous` gives the same pages again.
    for before, page in itertools.pairwise(pages):
        assert page.previous is not None
        back = fetch_page(
            session,
            QUERY,
            Network.id,
            PageRequest(3, token=page.previous.encode()),
            descending=descending,
        )
        assert ids(back) == ids(before)
        assert back.next is not None
        assert (back.previous is None) == (before is pages[0])


def test_ascending_is_the_default(session: Session) -> None:
    default = fetch_page(session, QUERY, Network.id, PageRequest(4))
    explicit = fetch_page(session, QUERY, Network.id, PageRequest(4), descending=False)
    assert ids(default) == ids(explicit) == sorted(ids(default))
    newest = fetch_page(session, QUERY, Network.id, PageRequest(4), descending=True)
    assert ids(newest) == sorted(ids(newest), reverse=True)
    assert max(ids(newest)) > max(ids(default))
