"""`TurnLock`: waiters get the lock in the order they asked, and a releaser cannot barge."""

from __future__ import annotations

import threading
import time

from fleetsim.db.turns import TurnLock


def wait_until(condition: object, *, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_waiters_are_served_in_order_and_the_releaser_waits_its_turn() -> None:
    lock = TurnLock()
    order: list[str] = []
    go_on = threading.Event()
    assert lock.acquire()

    def take(name: str) -> None:
        assert lock.acquire()
        order.append(name)
        go_on.wait(5)
        lock.release()

    first = threading.Thread(target=take, args=("first",))
    first.start()
    wait_until(lambda: len(lock._waiting) == 1)
    second = threading.Thread(target=take, args=("second",))
    second.start()
    wait_until(lambda: len(lock._waiting) == 2)
    lock.release()
    # The releaser asks again at once: the lock went to the first waiter.
    assert not lock.acquire(blocking=False)
    go_on.set()
    assert lock.acquire(timeout=5)
    order.append("releaser")
    lock.release()
    first.join()
    second.join()
    assert order == ["first", "second", "releaser"]


def test_a_wait_that_times_out_leaves_the_lock_as_it_was() -> None:
    lock = TurnLock()
    assert lock.acquire()
    assert not lock.acquire(timeout=0.01)
    assert lock._waiting == type(lock._waiting)()
    lock.release()
    assert lock.acquire(blocking=False)
    lock.release()
