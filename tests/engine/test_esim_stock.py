"""The eSIM Profile stock under concurrent requests, on both backends: never more profiles
than the stock holds, and a missing stock row (a fresh or reset database) made only once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine

from fleetsim.core.errors import ESimProfilesOutOfStock
from fleetsim.db.uow import unit_of_work
from fleetsim.resources.esim_profiles.stock import DEFAULT_STOCK, get_stock, set_stock, take_profile

REQUESTS = 8


def take(engine: Engine) -> bool:
    """One request's unit of work taking a profile; False when the stock is empty."""
    try:
        with unit_of_work(engine, write=True) as session:
            take_profile(session)
    except ESimProfilesOutOfStock:
        return False
    return True


def remaining(engine: Engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return get_stock(session)


@pytest.mark.parametrize("stock", [0, 3])
def test_concurrent_takes_never_exceed_the_stock(engine: Engine, stock: int) -> None:
    with unit_of_work(engine, write=True) as session:
        set_stock(session, stock)
    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        results = list(pool.map(lambda _: take(engine), range(REQUESTS)))
    assert results.count(True) == stock
    assert remaining(engine) == 0


def test_concurrent_first_takes_make_the_stock_row_once(engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        results = list(pool.map(lambda _: take(engine), range(REQUESTS)))
    assert all(results)
    assert remaining(engine) == DEFAULT_STOCK - REQUESTS
