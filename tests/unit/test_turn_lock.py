"""`TurnLock`: waiters get the lock in the order they asked, and a releaser cannot barge."""

from __future__ import annotations

import threading

from fleetsim.db.turns import TurnLock


def test_waiters_are_served_in_order_and_the_releaser_waits_its_turn() -> None:
    lock = TurnLock()
    order: list[str] = []
    assert lock.acquire()
    assert not lock.acquire_or_call(lambda: order.append("first"))
    assert not lock.acquire_or_call(lambda: order.append("second"))

    lock.release()  # to the first waiter
    assert order == ["first"]
    # The releaser asks again at once: the lock is the first waiter's.
    assert not lock.acquire(blocking=False)
    assert not lock.acquire_or_call(lambda: order.append("releaser"))
    lock.release()  # the first waiter is done: to the second
    lock.release()  # the second is done: to the releaser
    assert order == ["first", "second", "releaser"]
    lock.release()
    assert lock.acquire(blocking=False)


def test_a_thread_waiting_gets_the_lock_when_it_is_released() -> None:
    lock = TurnLock()
    taken = threading.Event()
    assert lock.acquire()

    def take() -> None:
        assert lock.acquire(timeout=5)
        taken.set()
        lock.release()

    thread = threading.Thread(target=take)
    thread.start()
    lock.release()
    thread.join(timeout=5)
    assert taken.is_set()
    assert lock.acquire(blocking=False)


def test_a_wait_that_times_out_leaves_the_lock_as_it_was() -> None:
    lock = TurnLock()
    assert lock.acquire()
    assert not lock.acquire(timeout=0.01)
    assert not lock._waiting
    lock.release()
    assert lock.acquire(blocking=False)
    lock.release()
