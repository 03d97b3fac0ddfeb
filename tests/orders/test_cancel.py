"""Cancelling orders against the simulated AS400: before they left (released here at once, the file
carries what is left) and after (an ORDANN, sent once the AS400 has acknowledged the order, which
its import job applies and answers with ORDSTS A).

Real database, real files in IN/ and OUT/, the simulator's real import job; nothing of ours mocked.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from integration.as400.codec import RecordCodec
from integration.as400.simulator.engine import Simulator
from integration.as400.simulator.testing import latest
from integration.as400.sync import exchange_sync
from integration.models import OutboundFile, OutboxMessage, StorefrontEvent
from integration.outbox.dispatch import outbox_dispatch
from integration.storefront.api.errors import status_for
from inventory.models import Product, StockLevel
from inventory.reservations import LineRequest, reservation_create
from inventory.selectors import availability_by_pair
from orders.cancellation import order_cancel
from orders.errors import OrderError
from orders.models import Order, OrderCancellation, OrderLine
from orders.services import Customer, LineInput, OrderInput, order_place
from tests.factories.orders import warehouse_items
from tests.moments import TUESDAY
from tests.races import race, raised

pytestmark = pytest.mark.clock(TUESDAY)

WEBN = "WEB-000001"


def place_lines(number: str, lines: list[tuple[Product, int]], client: str = "web") -> Order:
    reservation = reservation_create(
        lines=[LineRequest(product.item_number, quantity) for product, quantity in lines], client=client
    )
    order, _ = order_place(
        data=OrderInput(
            order_number=number, reservation_id=str(reservation.pk), delivery="home",
            customer=Customer(last_name="Lefèvre", first_name="Zoë", city="Lyon"),
            lines=[LineInput(product.item_number, quantity, product.price) for product, quantity in lines],
        ),
        client=client,
    )  # fmt: skip
    return order


def line_of(order: Order, product: Product) -> OrderLine:
    return OrderLine.objects.get(order=order, product=product)


def available(product: Product) -> int:
    pair = (product.pk, 900)
    return availability_by_pair([pair])[pair].available


def in_flight(product: Product) -> int:
    return StockLevel.objects.get(product=product, location_id=900).in_flight


def cancel(number: str = WEBN, **kwargs: Any) -> list[OrderCancellation]:
    kwargs.setdefault("client", "web")
    kwargs.setdefault("requested_by", "web")
    return order_cancel(order_number=number, **kwargs)


def records(path: Path, file: str) -> list[dict[str, Any]]:
    return list(RecordCodec.for_file(file, 297).iter_decode(path.read_bytes()))


def sim_line(sim: Simulator, webn: str, line: int) -> dict[str, int]:
    row = sim.conn.execute(
        "SELECT QTCDE, QTANN, QTEXP FROM SIM_ORDLIN WHERE WEBN = ? AND LIGN = ?", (webn, line)
    ).fetchone()
    return {"ordered": int(row["QTCDE"]), "cancelled": int(row["QTANN"]), "shipped": int(row["QTEXP"])}


def accepted(sim: Simulator, order: Order) -> Order:
    """Send the order, let the AS400 import it, apply its ORDACK."""
    outbox_dispatch(now=TUESDAY)
    sim.import_now()
    exchange_sync()
    order.refresh_from_db()
    return order


# --- Before the order left --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_whole_order_before_it_left_frees_its_stock_at_once_and_never_leaves(
    simulator: Simulator,
) -> None:
    a, b = warehouse_items(2)
    before = (available(a), available(b))
    order = place_lines(WEBN, [(a, 2), (b, 1)])
    assert (available(a), available(b)) == (before[0] - 2, before[1] - 1)

    [cancellation] = cancel(reason="CLI")

    assert (cancellation.state, cancellation.line, cancellation.quantity) == ("released", None, 3)
    assert (cancellation.confirmed_quantity, cancellation.reason, cancellation.requested_by) == (
        3,
        "CLI",
        "web",
    )
    assert cancellation.closed_at is not None
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert [(e.status_from, e.status_to) for e in order.events.all()] == [
        ("", "placed"),
        ("placed", "cancelled"),
    ]
    # stored in English (the admin shows it in the reader's language: tests/admin/test_french_admin.py)
    assert order.events.last().cause == "cancelled by web (CLI) before it left for the AS400"  # type: ignore[union-attr]
    assert [(line.cancelled, line.in_flight) for line in order.lines.order_by("line_number")] in (
        [(2, 0), (1, 0)], [(1, 0), (2, 0)],
    )  # fmt: skip
    assert (in_flight(a), in_flight(b)) == (0, 0)
    assert (available(a), available(b)) == before
    assert OutboxMessage.objects.get().state == "cancelled"
    event = StorefrontEvent.objects.get()
    assert (event.type, event.order_number, event.client) == ("order.cancelled", WEBN, "web")
    data = event.payload["data"]
    assert (data["status"], data["by"], data["reason"]) == ("cancelled", "customer", "CLI")
    assert sorted((x["line_number"], x["quantity"]) for x in data["lines"]) == sorted(
        [(line_of(order, a).line_number, 2), (line_of(order, b).line_number, 1)]
    )

    report = outbox_dispatch(now=TUESDAY)

    assert report.files == []
    assert not OutboundFile.objects.exists()
    assert not list(simulator.config.in_dir.glob("ORDIMP_*"))


@pytest.mark.django_db
def test_some_units_before_it_left_are_freed_and_the_file_carries_only_the_rest(simulator: Simulator) -> None:
    a, b = warehouse_items(2)
    before = (available(a), available(b))
    order = place_lines(WEBN, [(a, 3), (b, 2)])
    line_a, line_b = line_of(order, a), line_of(order, b)

    done = cancel(lines=[(line_a.line_number, 2), (line_b.line_number, 2)])

    assert sorted((c.line_id, c.quantity, c.state) for c in done) == sorted(
        [(line_a.pk, 2, "released"), (line_b.pk, 2, "released")]
    )
    order.refresh_from_db()
    assert order.status == "placed"
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    assert (line_a.cancelled, line_a.in_flight, line_b.cancelled, line_b.in_flight) == (2, 1, 2, 0)
    assert (in_flight(a), in_flight(b)) == (1, 0)
    assert (available(a), available(b)) == (before[0] - 1, before[1])
    assert OutboxMessage.objects.get().state == "pending"
    history = [(e.line_id, e.status_from, e.status_to) for e in order.events.all()]
    assert sorted(history[1:]) == sorted([(line_a.pk, "placed", "placed"), (line_b.pk, "placed", "placed")])
    assert sorted(e.cause for e in order.events.all()[1:]) == sorted(
        f"2 of {n} unit(s) of line {line.line_number} cancelled by web before the order left for the AS400"
        for n, line in [(3, line_a), (2, line_b)]
    )

    report = outbox_dispatch(now=TUESDAY)

    assert report.files == ["ORDIMP_000001"]
    header, *lines = records(simulator.config.in_dir / "ORDIMP_000001.DAT", "ORDIMP")
    assert (header["OHWEBN"], header["OHNBL"], header["OHTOTL"]) == (WEBN, 1, a.price * 1)
    assert [(x["OLLIGN"], x["OLITEM"], x["OLQTE"], x["OLPRIX"]) for x in lines] == [
        (line_a.line_number, a.item_number, 1, a.price)
    ]
    simulator.import_now()
    exchange_sync()
    order.refresh_from_db()
    assert (order.status, bool(order.as400_order_number)) == ("accepted", True)
    assert sim_line(simulator, WEBN, line_a.line_number) == {"ordered": 1, "cancelled": 0, "shipped": 0}
    webord = simulator.sql("SELECT WONBL, WOQTC, WOTOTL FROM WEBORD WHERE WOWEBN = ?", (WEBN,))[0]
    assert (int(webord[0]), int(webord[1]), Decimal(str(webord[2]))) == (1, 1, a.price)


@pytest.mark.django_db
def test_every_unit_cancelled_line_by_line_is_the_whole_order(simulator: Simulator) -> None:
    a, b = warehouse_items(2)
    order = place_lines(WEBN, [(a, 3), (b, 2)])
    line_a, line_b = line_of(order, a), line_of(order, b)

    cancel(lines=[(line_a.line_number, 1)])
    last = cancel(lines=[(line_a.line_number, 2), (line_b.line_number, 2)])

    assert {c.state for c in last} == {"released"}
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert OutboxMessage.objects.get().state == "cancelled"
    assert (in_flight(a), in_flight(b)) == (0, 0)
    assert OrderCancellation.objects.filter(order=order).count() == 3
    assert StorefrontEvent.objects.filter(type="order.cancelled").count() == 2
    assert outbox_dispatch(now=TUESDAY).files == []


# --- After the order left ---------------------------------------------------------------------


@pytest.mark.django_db
def test_after_it_left_the_ordann_waits_for_the_ack_then_the_as400_cancels_what_it_can(
    simulator: Simulator,
) -> None:
    a, b = warehouse_items(2)
    order = place_lines(WEBN, [(a, 3), (b, 2)])
    assert outbox_dispatch(now=TUESDAY).files == ["ORDIMP_000001"]  # in IN/, not read yet

    [cancellation] = cancel(reason="CLI")

    assert (cancellation.state, cancellation.line, cancellation.quantity) == ("requested", None, 5)
    order.refresh_from_db()
    assert order.status == "cancellation_requested"
    assert (in_flight(a), in_flight(b)) == (3, 2)  # held until the AS400 says what it cancelled
    ordann = OutboxMessage.objects.get(kind="ORDANN")
    assert (ordann.state, ordann.payload) == (
        "pending", {"cancellation": cancellation.pk, "line": 0, "quantity": 5, "reason": "CLI"},
    )  # fmt: skip
    assert not StorefrontEvent.objects.filter(type="order.cancelled").exists()  # told when confirmed

    early = outbox_dispatch(file="ORDANN", now=TUESDAY)  # the AS400 has not acknowledged the order

    assert early.files == []
    assert OutboxMessage.objects.get(kind="ORDANN").state == "pending"

    simulator.import_now()  # ORDACK A
    exchange_sync()
    order.refresh_from_db()
    assert order.status == "cancellation_requested"  # still: the cancellation is what is awaited
    assert order.as400_order_number
    assert OutboxMessage.objects.get(kind="ORDIMP").state == "acked"
    [accepted] = StorefrontEvent.objects.filter(type="order.accepted")  # the storefront learns its number
    assert accepted.payload["data"]["as400_order_number"] == order.as400_order_number

    report = outbox_dispatch(file="ORDANN", now=TUESDAY)

    assert report.files == ["ORDANN_000001"]
    [record] = records(simulator.config.in_dir / "ORDANN_000001.DAT", "ORDANN")
    assert (record["OAWEBN"], record["OALIGN"], record["OAQTE"], record["OARSN"]) == (WEBN, 0, 5, "CLI")
    assert OutboxMessage.objects.get(kind="ORDANN").state == "sent"

    imported = simulator.import_now()

    assert imported.done == ["ORDANN_000001"]
    assert imported.cancelled_lines == 2
    line_a, line_b = line_of(order, a), line_of(order, b)
    assert sim_line(simulator, WEBN, line_a.line_number) == {"ordered": 3, "cancelled": 3, "shipped": 0}
    assert sim_line(simulator, WEBN, line_b.line_number) == {"ordered": 2, "cancelled": 2, "shipped": 0}
    assert simulator.sql("SELECT WOSTAT FROM WEBORD WHERE WOWEBN = ?", (WEBN,))[0][0].strip() == "A"
    statuses = latest(simulator.config, "ORDSTS")
    assert sorted((r["OSWEBN"], r["OSLIGN"], r["OSEVT"], r["OSQTE"]) for r in statuses) == sorted(
        [(WEBN, line_a.line_number, "A", 3), (WEBN, line_b.line_number, "A", 2)]
    )


@pytest.mark.django_db
def test_after_it_left_the_as400s_ordsts_a_confirms_the_cancellation_end_to_end(simulator: Simulator) -> None:
    a, b = warehouse_items(2)
    order = accepted(simulator, place_lines(WEBN, [(a, 3), (b, 2)]))
    line_a = line_of(order, a)
    simulator.ship(WEBN, line=line_a.line_number, qty=1)  # one unit leaves before the ORDANN is read
    [cancellation] = cancel(reason="CLI")
    assert cancellation.quantity == 5  # what is open here: the shipment is not known yet

    outbox_dispatch(file="ORDANN", now=TUESDAY)
    simulator.import_now()  # ORDSTS: P and E for the shipped unit, then A for the 4 still open
    exchange_sync()

    cancellation.refresh_from_db()
    order.refresh_from_db()
    assert (cancellation.state, cancellation.confirmed_quantity) == ("confirmed", 4)
    assert cancellation.closed_at is not None
    assert order.status == "shipped"  # every unit shipped or cancelled
    lines = {line.line_number: (line.shipped, line.cancelled) for line in order.lines.all()}
    assert lines == {line_a.line_number: (1, 2), line_of(order, b).line_number: (0, 2)}
    told = StorefrontEvent.objects.filter(type="order.cancelled").get()
    assert told.payload["data"]["by"] == "customer"


@pytest.mark.django_db
def test_after_it_left_only_units_not_shipped_nor_already_asked_can_be_asked(simulator: Simulator) -> None:
    a, b = warehouse_items(2)
    order = accepted(simulator, place_lines(WEBN, [(a, 3), (b, 2)]))
    line_a, line_b = line_of(order, a), line_of(order, b)
    simulator.ship(WEBN, line=line_a.line_number, qty=2)
    # What the ORDSTS P and E records say, as the line's counters would show them once applied.
    OrderLine.objects.filter(pk=line_a.pk).update(picked=2, shipped=2)

    with pytest.raises(OrderError) as too_many:
        cancel(lines=[(line_a.line_number, 2)])
    [one] = cancel(lines=[(line_a.line_number, 1)])
    with pytest.raises(OrderError) as asked_already:
        cancel(lines=[(line_a.line_number, 1)])
    [rest] = cancel()
    with pytest.raises(OrderError) as nothing_left:
        cancel()

    assert (too_many.value.code, status_for(too_many.value)) == ("quantity_exceeds_cancellable", 409)
    assert too_many.value.detail == {
        "lines": [{"line_number": line_a.line_number, "asked": 2, "cancellable": 1}]
    }
    assert asked_already.value.detail["lines"][0]["cancellable"] == 0
    assert (one.line_id, one.quantity, one.state) == (line_a.pk, 1, "requested")
    assert (rest.line_id, rest.quantity, rest.state) == (None, 2, "requested")  # line B's 2 units
    assert (nothing_left.value.code, status_for(nothing_left.value)) == ("not_cancellable", 409)
    assert [m.payload["line"] for m in OutboxMessage.objects.filter(kind="ORDANN").order_by("pk")] == [
        line_a.line_number, 0,
    ]  # fmt: skip

    assert outbox_dispatch(file="ORDANN", now=TUESDAY).files == ["ORDANN_000001"]
    simulator.import_now()

    assert sim_line(simulator, WEBN, line_a.line_number) == {"ordered": 3, "cancelled": 1, "shipped": 2}
    assert sim_line(simulator, WEBN, line_b.line_number) == {"ordered": 2, "cancelled": 2, "shipped": 0}
    statuses = [(r["OSLIGN"], r["OSEVT"], r["OSQTE"]) for r in latest(simulator.config, "ORDSTS")]
    assert sorted(statuses) == sorted([(line_a.line_number, "A", 1), (line_b.line_number, "A", 2)])


@pytest.mark.django_db
def test_a_refused_order_with_a_cancellation_pending_sends_no_ordann(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    StockLevel.objects.filter(product=product, location_id=900).update(
        on_hand=10_000
    )  # we think more is there
    order = place_lines(WEBN, [(product, 5_000)])  # the AS400 answers STK0
    outbox_dispatch(now=TUESDAY)
    [cancellation] = cancel()
    assert cancellation.state == "requested"

    simulator.import_now()
    exchange_sync()

    order.refresh_from_db()
    assert order.status == "refused"
    assert list(order.events.values_list("status_to", flat=True)) == [
        "placed",
        "cancellation_requested",
        "refused",
    ]
    cancellation.refresh_from_db()
    assert (cancellation.state, cancellation.closed_at is not None) == ("released", True)
    assert OutboxMessage.objects.get(kind="ORDANN").state == "cancelled"
    assert (in_flight(product), order.lines.get().in_flight) == (0, 0)
    assert outbox_dispatch(file="ORDANN", now=TUESDAY).files == []
    with pytest.raises(OrderError) as refused:
        cancel()
    assert refused.value.code == "not_cancellable"


# --- Refusals and idempotency -----------------------------------------------------------------


@pytest.mark.django_db
def test_refusals_have_their_own_codes_and_change_nothing(simulator: Simulator) -> None:
    a, b = warehouse_items(2)
    order = place_lines(WEBN, [(a, 3)])
    place_lines("OTHER-1", [(b, 1)], client="other-shop")
    number = line_of(order, a).line_number

    def refused(**kwargs: Any) -> tuple[str, int]:
        with pytest.raises(OrderError) as caught:
            cancel(**kwargs)
        return str(caught.value.code), status_for(caught.value)

    assert refused(number="WEB-999999") == ("order_not_found", 404)
    assert refused(number="OTHER-1") == ("order_not_found", 404)  # another client's order
    assert refused(lines=[(number + 7, 1)]) == ("unknown_line", 400)
    assert refused(lines=[(number, 4)]) == ("quantity_exceeds_cancellable", 409)
    assert refused(lines=[(number, 0)]) == ("invalid_order", 400)
    assert refused(lines=[(number, 1), (number, 1)]) == ("invalid_order", 400)
    assert refused(lines=[]) == ("invalid_order", 400)
    assert refused(reason="client") == ("invalid_order", 400)
    assert not OrderCancellation.objects.exists()
    assert (line_of(order, a).cancelled, line_of(order, a).in_flight, in_flight(a)) == (0, 3, 3)
    assert not StorefrontEvent.objects.exists()

    cancel()
    assert refused() == ("not_cancellable", 409)
    Order.objects.filter(order_number="OTHER-1").update(status="shipped")
    assert refused(number="OTHER-1", client="other-shop") == ("not_cancellable", 409)


@pytest.mark.django_db
def test_the_same_idempotency_key_answers_the_same_cancellations_and_other_content_is_a_conflict(
    simulator: Simulator,
) -> None:
    a, b = warehouse_items(2)
    order = place_lines(WEBN, [(a, 3), (b, 2)])
    outbox_dispatch(now=TUESDAY)  # left: requests, one per line
    one, two = line_of(order, a).line_number, line_of(order, b).line_number

    first = cancel(lines=[(one, 1), (two, 1)], idempotency_key="k-1")
    again = cancel(lines=[(two, 1), (one, 1)], idempotency_key="k-1")  # the same, written otherwise
    with pytest.raises(OrderError) as other_lines:
        cancel(lines=[(one, 2)], idempotency_key="k-1")
    with pytest.raises(OrderError) as whole:
        cancel(idempotency_key="k-1")
    with pytest.raises(OrderError) as other_reason:
        cancel(lines=[(one, 1), (two, 1)], reason="CLI", idempotency_key="k-1")

    assert len(first) == 2
    assert [c.pk for c in again] == [c.pk for c in first]
    assert {(e.value.code, status_for(e.value)) for e in (other_lines, whole, other_reason)} == {
        ("idempotency_key_conflict", 409)
    }
    assert OrderCancellation.objects.count() == 2
    assert OutboxMessage.objects.filter(kind="ORDANN").count() == 2
    assert first[0].idempotency_key == "k-1"


def together(*calls: Callable[[], object], in_order: bool = False) -> list[BaseException]:
    """Run the calls in threads released at once; the errors they raised.

    ``in_order``: each call starts only once the one before it has returned (that one first, for
    sure, whatever the machine's speed); otherwise a true race.
    """
    returned = [threading.Event() for _ in calls]

    def run(n: int, call: Callable[[], object]) -> None:
        try:
            if in_order and n > 0:
                assert returned[n - 1].wait(timeout=60), "the call before never returned"
            else:
                time.sleep(random.uniform(0, 0.002))  # a little jitter in the race, not a wait
            call()
        finally:
            returned[n].set()

    return raised(race(run, list(enumerate(calls)), timeout=120))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_is_one_cancellation(simulator: Simulator) -> None:
    order = place_lines(WEBN, [(warehouse_items(1)[0], 3)])
    answers: list[list[int]] = []

    errors = together(*[lambda: answers.append([c.pk for c in cancel(idempotency_key="same")])] * 4)

    assert errors == []
    assert len(answers) == 4
    assert len({tuple(a) for a in answers}) == 1
    assert OrderCancellation.objects.filter(order=order).count() == 1
    assert StorefrontEvent.objects.filter(type="order.cancelled").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_racing_the_dispatcher_ends_cancelled_and_unsent_or_sent_once_with_an_ordann(
    simulator: Simulator,
) -> None:
    """Many times, a cancellation and a dispatcher's claim of the same order at the same moment; in a
    round out of three the cancellation returns first, in another the dispatcher, for sure."""
    products = warehouse_items(3)
    rounds = 30
    outcomes: dict[str, int] = {"cancelled": 0, "requested": 0}
    for n in range(rounds):
        number = f"RACE-{n:04d}"
        order = place_lines(number, [(products[n % len(products)], 1)])

        def cancelling(number: str = number) -> object:
            return cancel(number)

        def dispatching() -> object:
            return outbox_dispatch(now=TUESDAY)

        if n % 3 == 0:  # a true race
            errors = together(cancelling, dispatching)
        elif n % 3 == 1:  # the cancellation first, for sure
            errors = together(cancelling, dispatching, in_order=True)
        else:  # the dispatcher first, for sure
            errors = together(dispatching, cancelling, in_order=True)

        assert errors == []
        order.refresh_from_db()
        ordimp = OutboxMessage.objects.get(subject=order.pk, kind="ORDIMP")
        in_files = [
            path.name
            for path in simulator.config.in_dir.glob("ORDIMP_*.DAT")
            for record in records(path, "ORDIMP")
            if record.get("OHWEBN") == number
        ]
        cancellation = OrderCancellation.objects.get(order=order)
        ordanns = list(OutboxMessage.objects.filter(subject=order.pk, kind="ORDANN"))
        if order.status == "cancelled":
            assert (ordimp.state, ordimp.outbound_file_id, in_files, ordanns) == ("cancelled", None, [], [])
            assert (cancellation.state, order.lines.get().in_flight) == ("released", 0)
            outcomes["cancelled"] += 1
        else:
            assert order.status == "cancellation_requested", order.status
            assert (ordimp.state, len(in_files)) == ("sent", 1)
            assert [(m.state, m.payload["line"], m.payload["quantity"]) for m in ordanns] == [
                ("pending", 0, 1)
            ]
            assert cancellation.state == "requested"
            outcomes["requested"] += 1
    assert sum(outcomes.values()) == rounds
    assert outcomes["cancelled"] > 0, outcomes
    assert outcomes["requested"] > 0, outcomes
