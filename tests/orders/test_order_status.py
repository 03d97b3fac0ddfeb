"""order_status_of: an order's status from its lines' counters (a pure function, no database)."""

from __future__ import annotations

import pytest

from orders.lifecycle import LineCounts, order_status_of
from orders.models import Order


def order(status: str = "accepted") -> Order:
    return Order(order_number="WEB-1", status=status)


def line(quantity: int = 3, **counters: int) -> LineCounts:
    return LineCounts(quantity, **counters)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([line()], "accepted"),
        ([line(picked=1)], "picked"),
        ([line(picked=2, shipped=1)], "partially_shipped"),
        ([line(picked=3, shipped=3)], "shipped"),
        ([line(picked=3, ready=3)], "ready_in_store"),
        ([line(picked=3, ready=2)], "partially_shipped"),  # click and collect, part ready
        ([line(picked=3, shipped=3), line(2)], "partially_shipped"),  # one line of two
        ([line(picked=3, shipped=3), line(2, picked=1)], "partially_shipped"),
        ([line(shipped=2, cancelled=1, picked=2)], "shipped"),  # the rest cancelled
        ([line(cancelled=1)], "accepted"),  # a partial cancellation of nothing else
        ([line(cancelled=3)], "cancelled"),
        ([line(cancelled=3), line(2, cancelled=2)], "cancelled"),
        ([line(cancelled=3), line(2)], "accepted"),
        ([line(picked=3, shipped=3, returned=1)], "partially_returned"),
        ([line(picked=3, shipped=3, returned=3)], "returned"),
        ([line(picked=2, shipped=2, cancelled=1, returned=2)], "returned"),  # all not cancelled
        ([line(picked=3, shipped=3, returned=3), line(2, picked=2, shipped=2)], "partially_returned"),
        ([line(picked=2, shipped=2, returned=1)], "partially_returned"),  # returns before the rest ships
        # Click and collect not collected, cancelled at the counter: ready units become cancelled.
        ([line(picked=3, ready=3, cancelled=3, counter_cancelled=3)], "cancelled"),
        ([line(picked=3, ready=3, cancelled=1, counter_cancelled=1)], "ready_in_store"),
        # Two were ready and cancelled at the counter; the third is still open: not "ready".
        ([line(picked=2, ready=2, cancelled=2, counter_cancelled=2)], "accepted"),
        ([line(picked=3, ready=2, cancelled=2, counter_cancelled=2)], "picked"),
    ],
)
def test_the_status_follows_the_lines(lines: list[LineCounts], expected: str) -> None:
    assert order_status_of(order(), lines) == expected


def test_an_open_cancellation_request_shows_while_units_are_open() -> None:
    assert order_status_of(order(), [line()], cancellation_requested=True) == "cancellation_requested"
    assert order_status_of(order(), [line(picked=1, shipped=1)], cancellation_requested=True) == (
        "cancellation_requested"
    )


def test_a_cancellation_request_with_nothing_open_left_does_not_show() -> None:
    shipped = [line(picked=3, shipped=3)]
    assert order_status_of(order(), shipped, cancellation_requested=True) == "shipped"
    cancelled = [line(cancelled=3)]
    assert order_status_of(order(), cancelled, cancellation_requested=True) == "cancelled"


def test_a_refused_order_stays_refused_and_an_unacknowledged_one_keeps_its_status() -> None:
    assert order_status_of(order("refused"), [line(picked=3, shipped=3)]) == "refused"
    assert order_status_of(order("sent"), [line()]) == "sent"
    assert order_status_of(order("placed"), [line()]) == "placed"
    # The AS400 moved it on before its ORDACK came: the events say it is the AS400's now.
    assert order_status_of(order("sent"), [line(picked=1)]) == "picked"


def test_an_order_moved_on_goes_back_to_accepted_when_its_request_is_answered() -> None:
    assert order_status_of(order("cancellation_requested"), [line(cancelled=1)]) == "accepted"


def test_line_counts_tell_open_and_returnable_units() -> None:
    counts = line(5, picked=4, shipped=3, cancelled=1, returned=1)
    assert (counts.live, counts.open, counts.handed, counts.returnable) == (4, 1, 3, 2)
    store = line(4, picked=4, ready=4, cancelled=1, counter_cancelled=1, returned=1)
    assert (store.open, store.handed, store.returnable, store.waiting_in_store) == (0, 3, 2, 2)
