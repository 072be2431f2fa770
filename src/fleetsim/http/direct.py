"""Direct answers: the commonest successful read answered without the ORM.

An endpoint may have, beside its handler, a direct handler (`endpoint(..., direct=...)`).
It runs first, on a pooled DBAPI connection (`fleetsim.db.direct`), with the account of
the request's auth token, and answers only the plain successful case: it returns None for
anything else — API key credentials, a wrong or unknown token, an object not found, input
it does not recognise — and the request then goes through the full handler, so every error
and every rule lives in one place. `tests/api/test_direct_answers.py` checks that the two
paths give the same bodies.

What it buys (in process, one request at a time, 2-core machine): fetching a Sim took
715 µs through the ORM and takes about 90 µs here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from fleetsim.db.direct import DirectReads, direct_reads
from fleetsim.http.urls import Urls
from fleetsim.resources.accounts.service import authenticate_directly

__all__ = ["DirectCall", "DirectHandler", "answer_directly"]


@dataclass(frozen=True)
class DirectCall:
    reads: DirectReads
    account_id: int
    account_sid: str
    path: Mapping[str, str]
    urls: Urls


# The body of the 200 reply, or None.
DirectHandler = Callable[[DirectCall], dict[str, Any] | None]


def answer_directly(
    engine: Engine,
    handler: DirectHandler,
    credentials: tuple[str, str],
    path: Mapping[str, str],
    urls: Urls,
) -> dict[str, Any] | None:
    """The body of the direct handler's 200 reply, or None when the full handler must
    answer."""
    if any("\x00" in value for value in path.values()):
        return None  # PostgreSQL refuses NUL in a query; the full handler answers 404
    with direct_reads(engine) as reads:
        account = authenticate_directly(reads, engine, *credentials)
        if account is None:
            return None
        return handler(DirectCall(reads, account[0], account[1], path, urls))
