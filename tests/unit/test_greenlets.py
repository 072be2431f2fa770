"""Units of work run in reused greenlets (`fleetsim.db.greenlets`): SQLAlchemy's
`await_only` waits on the loop from inside them, errors and cancellation reach the
awaiting coroutine, and the greenlets are kept for the next units."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from greenlet import getcurrent
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet as sqlalchemy_sees_a_greenlet

from fleetsim.db.greenlets import in_greenlet

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


class Refused(Exception):
    pass


async def _later(value: int) -> int:
    await asyncio.sleep(0)  # a real turn of the loop
    return value


def _adds(a: int, b: int) -> int:
    return await_only(_later(a)) + await_only(_later(b))


def test_a_unit_awaits_on_the_loop_and_returns_its_value() -> None:
    async def main() -> int:
        return await in_greenlet(_adds, 2, 3)

    assert asyncio.run(main()) == 5


def test_sqlalchemy_recognises_the_greenlet() -> None:
    async def main() -> tuple[bool, bool]:
        return sqlalchemy_sees_a_greenlet(), await in_greenlet(sqlalchemy_sees_a_greenlet)

    assert asyncio.run(main()) == (False, True)


def test_units_reuse_a_finished_units_greenlet_and_run_at_once_in_others() -> None:
    def where(pause: asyncio.Future[None] | None) -> object:
        if pause is not None:
            await_only(pause)
        return getcurrent()

    async def main() -> None:
        first = await in_greenlet(where, None)
        assert await in_greenlet(where, None) is first  # kept, and used again
        pause: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = asyncio.ensure_future(in_greenlet(where, pause))
        await asyncio.sleep(0)
        alongside = await in_greenlet(where, None)  # while the other unit waits
        pause.set_result(None)
        assert await waiting is first
        assert alongside is not first

    asyncio.run(main())


def test_an_error_reaches_the_awaiting_coroutine_and_the_greenlet_is_kept() -> None:
    def refuses() -> None:
        await_only(_later(1))
        raise Refused("no")

    async def main() -> None:
        with pytest.raises(Refused, match="no"):
            await in_greenlet(refuses)
        assert await in_greenlet(_adds, 1, 1) == 2

    asyncio.run(main())


def test_an_error_of_an_awaited_step_is_raised_inside_the_unit() -> None:
    async def fails() -> None:
        raise Refused("from the loop")

    def handles() -> str:
        try:
            await_only(fails())
        except Refused as error:
            return f"handled: {error}"
        return "not raised"

    async def main() -> str:
        return await in_greenlet(handles)

    assert asyncio.run(main()) == "handled: from the loop"


def test_cancelling_the_awaiting_task_unwinds_the_unit() -> None:
    unwound: list[str] = []

    def waits_forever(started: asyncio.Event) -> None:
        started.set()
        try:
            await_only(asyncio.Event().wait())
        finally:
            unwound.append("rolled back")

    async def main() -> None:
        started = asyncio.Event()
        task = asyncio.ensure_future(in_greenlet(waits_forever, started))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await in_greenlet(_adds, 4, 5) == 9

    asyncio.run(main())
    assert unwound == ["rolled back"]


def test_the_unit_sees_and_sets_the_awaiting_tasks_context_variables() -> None:
    def reads_and_sets() -> str:
        seen = request_id.get()
        request_id.set("set in the unit")
        return seen

    async def one_request(rid: str) -> tuple[str, str]:
        request_id.set(rid)
        seen = await in_greenlet(reads_and_sets)
        return seen, request_id.get()

    async def main() -> list[tuple[str, str]]:
        return await asyncio.gather(one_request("RQ1"), one_request("RQ2"))

    assert asyncio.run(main()) == [("RQ1", "set in the unit"), ("RQ2", "set in the unit")]
