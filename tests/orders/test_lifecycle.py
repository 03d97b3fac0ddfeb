"""ORDSTS and STRRTN from the simulated AS400, applied to web orders (orders.lifecycle).

Each test places real orders, sends them through the outbox to the simulator, lets it accept them,
then plays the warehouse, the stores and the AS400's operators (or writes ORDSTS files by hand for
what the simulator never does, such as events out of order) and applies the exports with
``exchange_sync`` — the way production runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from integration.as400.codec import RecordCodec, from_datetime
from integration.as400.control import control_for
from integration.as400.files import write_pair
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, FileRun, OutboxMessage, StorefrontEvent
from integration.outbox.dispatch import outbox_dispatch
from inventory.models import Product, StockLevel
from inventory.reservations import LineRequest, reservation_create
from inventory.selectors import availability_by_pair
from orders.models import As400Event, Order, OrderCancellation, OrderLine
from orders.services import Customer, LineInput, OrderInput, order_place
from returns.models import Return
from returns.services import ReturnLineInput, return_create
from tests.factories.orders import warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


# --- Helpers ----------------------------------------------------------------------------------


def accepted(
    sim: Simulator, n: int, lines: Sequence[tuple[Product, int]], *, store: int | None = None
) -> Order:
    """A web order placed here, sent, and accepted by the AS400 (home delivery, or collected at ``store``)."""
    reservation = reservation_create(
        lines=[LineRequest(p.item_number, q, location=store) for p, q in lines], client="web"
    )
    order, _ = order_place(
        data=OrderInput(
            order_number=f"WEB-{n:06d}", reservation_id=str(reservation.pk),
            delivery="home" if store is None else "click_and_collect", pickup_location=store,
            customer=Customer(last_name="Lefèvre", first_name="Zoë", city="Lyon"),
            lines=[LineInput(p.item_number, q, p.price) for p, q in lines],
        ),
        client="web",
    )  # fmt: skip
    outbox_dispatch(now=TUESDAY)
    sim.import_now()
    exchange_sync()
    order.refresh_from_db()
    assert order.status == "accepted"
    return order


def later(sim: Simulator) -> None:
    """A minute passes at the AS400 (two movements in the same second would be the same record)."""
    sim.step(minutes=1)


def line_of(order: Order, number: int = 1) -> OrderLine:
    return OrderLine.objects.get(order=order, line_number=number)


def counters(line: OrderLine) -> tuple[int, int, int, int, int]:
    line.refresh_from_db()
    return (line.picked, line.shipped, line.ready, line.cancelled, line.returned)


def history(order: Order) -> list[str]:
    return list(order.events.filter(line__isnull=True).values_list("status_to", flat=True))


def storefront(order: Order, type: str | None = None) -> list[dict[str, Any]]:
    events = StorefrontEvent.objects.filter(order_number=order.order_number).exclude(type="order.accepted")
    if type:
        events = events.filter(type=type)
    return [{"type": e.type, "rma": e.rma, **e.payload["data"]} for e in events.order_by("id")]


def outcomes(order: Order | None = None) -> list[tuple[str, str, int, int]]:
    events = As400Event.objects.order_by("id")
    if order is not None:
        events = events.filter(order=order)
    return [(e.code, e.outcome, e.quantity, e.applied_quantity) for e in events]


def runs(report: Any, file: str) -> list[FileRun]:
    return [run for run in report.runs if run.file == file]


def ordsts(
    order: Order, line: int, item: str, qty: int, code: str, at: datetime, **values: Any
) -> dict[str, Any]:
    day, clock = from_datetime(at)
    return {"OSWEBN": order.order_number, "OSCDE": order.as400_order_number, "OSLIGN": line, "OSITEM": item,
            "OSQTE": qty, "OSEVT": code, "OSTRK": "", "OSDATE": day, "OSTIME": clock, **values}  # fmt: skip


def write_out(sim: Simulator, file: str, records: Iterable[Mapping[str, Any]], at: datetime) -> str:
    """Write an OUT/ pair as the AS400 would, under its next sequence number; returns its name."""
    seq = (
        max([sim.last_seq(file)] + [int(ok.stem[-6:]) for ok in sim.config.out_dir.rglob(f"{file}_*.OK")]) + 1
    )
    ccsid = int(settings.AS400_CCSID)
    data = RecordCodec.for_file(file, ccsid).encode_many(records)
    control = control_for(file, data, seq=seq, kind="D", at=at, ccsid=ccsid)
    write_pair(sim.config.out_dir, file, seq, data, control.encode(ccsid))
    return f"{file}_{seq:06d}"


# --- Shipping, partly then the rest -----------------------------------------------------------


def test_a_partial_shipment_then_the_rest(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 3)])

    simulator.pick(order.order_number, line=1, qty=1)
    later(simulator)
    simulator.ship(order.order_number, line=1, qty=1)  # ORDSTS E 1 (already picked)
    first = exchange_sync()

    order.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("partially_shipped", (1, 1, 0, 0, 0))
    assert [run.counts.get("applied") for run in runs(first, "ORDSTS")] == [1, 1]

    later(simulator)
    simulator.ship(order.order_number, line=1)  # the 2 others: P 2 then E 2 in one file
    second = exchange_sync()

    order.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("shipped", (3, 3, 0, 0, 0))
    assert [(run.outcome, run.counts.get("applied")) for run in runs(second, "ORDSTS")] == [("applied", 2)]
    assert history(order) == ["placed", "accepted", "picked", "partially_shipped", "shipped"]
    assert outcomes(order) == [("P", "applied", 1, 1), ("E", "applied", 1, 1), ("P", "applied", 2, 2),
                               ("E", "applied", 2, 2)]  # fmt: skip
    shipped = storefront(order, "order.shipped")
    assert [(e["status"], e["lines"]) for e in shipped] == [
        ("partially_shipped", [{"line_number": 1, "sku": product.mapping.sku, "quantity": 1}]),
        ("shipped", [{"line_number": 1, "sku": product.mapping.sku, "quantity": 2}]),
    ]
    assert all(e["tracking"].startswith("6A") for e in shipped)
    assert shipped[0]["tracking"] != shipped[1]["tracking"]
    # order.picked once: when the first units were picked, not again for the rest.
    assert [e["lines"] for e in storefront(order, "order.picked")] == [
        [{"line_number": 1, "sku": product.mapping.sku, "quantity": 1}]
    ]
    assert As400Event.objects.filter(order=order).values("tracking").distinct().count() == 3  # "" and two


def test_one_shipment_of_two_lines_is_one_storefront_event_with_both_lines(simulator: Simulator) -> None:
    first, second = warehouse_items(2)
    order = accepted(simulator, 1, [(first, 2), (second, 1)])

    simulator.ship(order.order_number)  # P and E for each line, one tracking number
    exchange_sync()

    order.refresh_from_db()
    assert order.status == "shipped"
    assert [e["type"] for e in storefront(order)] == ["order.picked", "order.shipped"]
    (shipped,) = storefront(order, "order.shipped")
    assert [(line["line_number"], line["quantity"]) for line in shipped["lines"]] == [(1, 2), (2, 1)]
    assert shipped["status"] == "shipped"


# --- Cancellations ----------------------------------------------------------------------------


def test_a_partial_cancellation_by_the_as400_then_the_rest_ships(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 3)])

    simulator.cancel(order.order_number, line=1, qty=1)  # the AS400 cancels one unit on its own
    exchange_sync()

    order.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("accepted", (0, 0, 0, 1, 0))
    assert [(e["by"], e["lines"]) for e in storefront(order, "order.cancelled")] == [
        ("as400", [{"line_number": 1, "sku": product.mapping.sku, "quantity": 1}])
    ]

    later(simulator)
    simulator.ship(order.order_number)  # ships what is open: 2
    exchange_sync()

    order.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("shipped", (2, 2, 0, 1, 0))
    assert [e["lines"][0]["quantity"] for e in storefront(order, "order.shipped")] == [2]


def request_cancellation(order: Order, *, line: OrderLine | None = None, quantity: int) -> OrderCancellation:
    """What the cancellation service does once the order left: a request, its ORDANN, the status."""
    request = OrderCancellation.objects.create(
        order=order, line=line, quantity=quantity, reason="CLIE", requested_by="web",
        state=OrderCancellation.State.REQUESTED,
    )  # fmt: skip
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.ORDANN, subject=order.pk,
        payload={"line": line.line_number if line else 0, "quantity": quantity, "reason": "CLIE"},
    )  # fmt: skip
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLATION_REQUESTED)
    return request


def test_the_as400_answers_our_cancellation_request_with_a(simulator: Simulator) -> None:
    first, second = warehouse_items(2)
    order = accepted(simulator, 1, [(first, 2), (second, 1)])
    request = request_cancellation(order, quantity=3)

    outbox_dispatch(file="ORDANN", now=TUESDAY)
    simulator.import_now()  # ORDANN line 0: A for each line
    exchange_sync()

    order.refresh_from_db()
    request.refresh_from_db()
    assert order.status == "cancelled"
    assert (request.state, request.confirmed_quantity, request.closed_at is not None) == (
        "confirmed",
        3,
        True,
    )
    assert history(order) == [
        "placed",
        "accepted",
        "cancelled",
    ]  # the request set its status without an event
    assert order.events.filter(line__isnull=True).last().status_from == "cancellation_requested"  # type: ignore[union-attr]
    (cancelled,) = storefront(order, "order.cancelled")
    assert (cancelled["by"], cancelled["status"]) == ("customer", "cancelled")
    assert [(line["line_number"], line["quantity"]) for line in cancelled["lines"]] == [(1, 2), (2, 1)]


def test_units_shipped_while_our_request_was_open_are_too_late_for_it(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 3)])
    simulator.ship(order.order_number, line=1, qty=2)  # at the AS400; we have not read it yet
    request = request_cancellation(order, line=line_of(order), quantity=3)

    outbox_dispatch(file="ORDANN", now=TUESDAY)
    later(simulator)
    simulator.import_now()  # the AS400 cancels what it still can: 1
    exchange_sync()  # E 2 (the request stays open: one unit is still open), then A 1

    order.refresh_from_db()
    request.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("shipped", (2, 2, 0, 1, 0))
    assert (request.state, request.confirmed_quantity) == ("confirmed", 1)
    assert [(e["by"], e["lines"][0]["quantity"]) for e in storefront(order, "order.cancelled")] == [
        ("customer", 1)
    ]


def test_a_request_for_units_that_all_left_closes_as_too_late(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 1)])
    simulator.ship(order.order_number)
    request = request_cancellation(order, quantity=1)

    outbox_dispatch(file="ORDANN", now=TUESDAY)
    later(simulator)
    simulator.import_now()  # nothing left to cancel: the AS400 answers nothing
    exchange_sync()

    order.refresh_from_db()
    request.refresh_from_db()
    assert order.status == "shipped"
    assert (request.state, request.confirmed_quantity, request.closed_at is not None) == ("too_late", 0, True)
    assert storefront(order, "order.cancelled") == []


# --- Out of order, repeated ---------------------------------------------------------------------


def test_a_pick_arriving_after_the_shipment_of_the_same_units_is_stale(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 3)])
    at = simulator.now()
    e_file = write_out(
        simulator, "ORDSTS", [ordsts(order, 1, product.item_number, 2, "E", at, OSTRK="6A1")], at
    )
    p_file = write_out(simulator, "ORDSTS", [ordsts(order, 1, product.item_number, 2, "P", at - timedelta(minutes=30))], at)  # fmt: skip

    report = exchange_sync()

    order.refresh_from_db()
    assert [run.outcome for run in runs(report, "ORDSTS")] == ["applied", "applied"]
    assert [f"ORDSTS_{run.seq:06d}" for run in runs(report, "ORDSTS")] == [e_file, p_file]
    assert outcomes(order) == [("E", "applied", 2, 2), ("P", "stale", 2, 0)]
    assert (order.status, counters(line_of(order))) == ("partially_shipped", (2, 2, 0, 0, 0))
    assert not Alert.objects.filter(kind="as400_event_discrepancy").exists()  # stale is no discrepancy

    # A later P for the third unit is a pick of its own: it counts.
    later(simulator)
    write_out(
        simulator, "ORDSTS", [ordsts(order, 1, product.item_number, 1, "P", simulator.now())], simulator.now()
    )
    exchange_sync()
    assert counters(line_of(order))[0] == 3
    assert outcomes(order)[-1] == ("P", "applied", 1, 1)


def test_the_same_file_delivered_twice_is_applied_once(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 2)])
    simulator.fault_on("twice", file="ORDSTS")

    simulator.ship(order.order_number)  # P 2 + E 2, written twice under two numbers
    report = exchange_sync()

    files = runs(report, "ORDSTS")
    assert [(run.outcome, run.counts.get("applied", 0), run.counts.get("repeated", 0)) for run in files] == [
        ("applied", 2, 0), ("applied", 0, 2),
    ]  # fmt: skip
    assert counters(line_of(order)) == (2, 2, 0, 0, 0)
    assert As400Event.objects.count() == 2
    assert [e["type"] for e in storefront(order)] == ["order.picked", "order.shipped"]


def test_events_repeated_in_a_later_file_are_applied_once(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 3)])
    at = simulator.now()
    pick = ordsts(order, 1, product.item_number, 1, "P", at)
    write_out(simulator, "ORDSTS", [pick], at)
    # The next file repeats it, and carries an identical record twice: two movements in one second.
    write_out(simulator, "ORDSTS", [pick, ordsts(order, 1, product.item_number, 1, "A", at)] * 2, at)

    report = exchange_sync()

    assert [run.counts.get("repeated", 0) for run in runs(report, "ORDSTS")] == [0, 1]
    assert counters(line_of(order)) == (2, 0, 0, 2, 0)
    assert len(set(As400Event.objects.values_list("key", flat=True))) == As400Event.objects.count() == 4


# --- Discrepancies --------------------------------------------------------------------------------


def test_unknown_orders_and_lines_are_kept_as_discrepancies_with_one_alert(simulator: Simulator) -> None:
    product, other = warehouse_items(2)
    order = accepted(simulator, 1, [(product, 3)])
    at = simulator.now()
    stranger = Order(order_number="WEB-999999", as400_order_number="W000999999")
    name = write_out(simulator, "ORDSTS", [
        ordsts(stranger, 1, product.item_number, 1, "E", at),  # an order we never had
        ordsts(order, 7, product.item_number, 1, "P", at),  # no line 7
        ordsts(order, 1, other.item_number, 1, "P", at),  # line 1 is another item
        ordsts(order, 1, product.item_number, 1, "X", at),  # no such event
        ordsts(order, 1, product.item_number, 5, "E", at),  # 5 units on a line of 3
        ordsts(order, 1, product.item_number, 1, "R", at),  # one of the 3 shipped comes back
    ], at)  # fmt: skip

    report = exchange_sync()

    (run,) = runs(report, "ORDSTS")
    assert run.outcome == "applied"
    assert list(As400Event.objects.order_by("record").values_list("outcome", "applied_quantity")) == [
        ("unknown_order", 0), ("unknown_line", 0), ("unknown_line", 0), ("rejected", 0), ("partly_applied", 3),
        ("applied", 1),
    ]  # fmt: skip
    assert As400Event.objects.get(record=1).order is None
    assert As400Event.objects.filter(source=name, order=order).count() == 5
    alert = Alert.objects.get(kind="as400_event_discrepancy")
    assert alert.subject == name
    assert alert.message.startswith(f"{name}: 5 event(s) kept as discrepancies")
    assert (run.counts["unknown_order"], run.counts["unknown_line"], run.counts["partly_applied"]) == (
        1,
        2,
        1,
    )
    assert run.quality["events_unknown_order"]["count"] == 1
    order.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("partially_returned", (3, 3, 0, 0, 1))
    open_discrepancies = As400Event.objects.filter(
        outcome__in=As400Event.DISCREPANCIES, resolved_at__isnull=True
    )
    assert open_discrepancies.count() == 5


def test_events_for_a_refused_order_are_rejected(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 1)])
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUSED)
    at = simulator.now()
    write_out(simulator, "ORDSTS", [ordsts(order, 1, product.item_number, 1, "P", at)], at)

    exchange_sync()

    assert outcomes(order) == [("P", "rejected", 1, 0)]
    assert counters(line_of(order)) == (0, 0, 0, 0, 0)
    assert Alert.objects.filter(kind="as400_event_discrepancy").count() == 1


# --- Returns ----------------------------------------------------------------------------------------


def announce_return(order: Order, line: OrderLine, quantity: int, *, store: int = 900) -> Return:
    """A web return asked through the returns service: the return, its lines and its RTNIMP in the outbox."""
    ret, _ = return_create(
        client=order.client, order_number=order.order_number, store=store, reason="DEFE",
        lines=[ReturnLineInput(line_number=line.line_number, quantity=quantity)],
    )  # fmt: skip
    return ret


def test_a_web_return_received_by_the_as400(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 3)])
    simulator.ship(order.order_number)
    exchange_sync()
    ret = announce_return(order, line_of(order), 2)
    outbox_dispatch(file="RTNIMP", now=TUESDAY)
    later(simulator)
    simulator.import_now()

    simulator.receive_return(order.order_number)  # ORDSTS R 2
    exchange_sync()

    order.refresh_from_db()
    ret.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("partially_returned", (3, 3, 0, 0, 2))
    assert (ret.status, ret.received_at is not None) == ("received", True)
    assert ret.lines.get().received_quantity == 2
    assert Return.objects.count() == 1  # nothing made up: the goods were the announced return's
    (returned,) = storefront(order, "order.returned")
    assert (returned["where"], returned["rma"], returned["lines"][0]["quantity"]) == ("warehouse", ret.rma, 2)
    (received,) = storefront(order, "return.received")
    assert (received["rma"], received["return_status"]) == (ret.rma, "received")


def test_goods_in_before_their_announcement_left_withdraw_the_announcement(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 2)])
    simulator.ship(order.order_number)
    exchange_sync()
    ret = announce_return(order, line_of(order), 2)  # its RTNIMP still waits in the outbox
    later(simulator)
    write_out(
        simulator, "ORDSTS", [ordsts(order, 1, product.item_number, 2, "R", simulator.now())], simulator.now()
    )

    exchange_sync()

    ret.refresh_from_db()
    assert ret.status == "received"
    rtnimp = OutboxMessage.objects.get(kind="RTNIMP")
    assert (rtnimp.state, rtnimp.last_error) == (
        "cancelled",
        "the goods arrived before the announcement left",
    )
    assert outbox_dispatch(file="RTNIMP", now=TUESDAY).files == []  # the AS400 never expects them twice


def test_goods_nobody_announced_become_an_as400_return(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 2)])
    simulator.ship(order.order_number)
    exchange_sync()
    ret = announce_return(order, line_of(order), 1)  # announced for one unit; two come back
    at = simulator.now()
    write_out(simulator, "ORDSTS", [ordsts(order, 1, product.item_number, 2, "R", at)], at)

    exchange_sync()

    order.refresh_from_db()
    assert order.status == "returned"
    ret.refresh_from_db()
    assert ret.status == "received"
    made = Return.objects.get(source="as400")
    assert (made.status, made.store, made.rma[0], made.lines.get().received_quantity) == (
        "received",
        900,
        "A",
        1,
    )
    assert sorted(e["rma"] for e in storefront(order, "order.returned")) == sorted([ret.rma, made.rma])
    assert [e["rma"] for e in storefront(order, "return.received")] == [ret.rma]


def test_a_return_at_a_store_counter(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    order = accepted(simulator, 1, [(product, 3)])
    simulator.ship(order.order_number)
    exchange_sync()

    later(simulator)
    simulator.return_store(order.order_number, line=1, qty=1, store=12)  # STRRTN R
    report = exchange_sync()

    assert [run.counts.get("applied") for run in runs(report, "STRRTN")] == [1]
    order.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("partially_returned", (3, 3, 0, 0, 1))
    ret = Return.objects.get()
    assert (ret.source, ret.status, ret.store, ret.reason, ret.rma[0]) == (
        "store",
        "received",
        12,
        "RMAG",
        "S",
    )
    assert ret.lines.get().received_quantity == 1
    (returned,) = storefront(order, "order.returned")
    assert (returned["where"], returned["store"], returned["rma"]) == ("store", 12, ret.rma)
    assert storefront(order, "return.received") == []


# --- Click and collect not picked up: the store's stock comes back ---------------------------------


def store_item(store: int, at_least: int = 4) -> Product:
    level = (
        StockLevel.objects.filter(
            location_id=store, product__status="A", on_hand__gte=at_least + 2, promised=0
        )
        .select_related("product")
        .order_by("product__item_number")
        .first()
    )
    assert level is not None
    return level.product


def test_a_click_and_collect_cancelled_at_the_counter_frees_the_store_stock_after_the_next_extract(
    simulator: Simulator,
) -> None:
    store = 3
    product = store_item(store)
    pair = (product.pk, store)
    before = availability_by_pair([pair])[pair].available
    order = accepted(simulator, 1, [(product, 2)], store=store)
    simulator.step(minutes=10)  # an extract after the ack: the AS400 promises the 2 units (SBQRS)
    exchange_sync()
    assert availability_by_pair([pair])[pair].available == before - 2

    later(simulator)
    simulator.ready(order.order_number)  # ORDSTS L 2: off the shelf and off SBQRS
    exchange_sync()
    order.refresh_from_db()
    assert order.status == "ready_in_store"
    later(simulator)
    simulator.cancel_store(order.order_number)  # STRRTN C 2: nobody came; back on the shelf
    exchange_sync()

    order.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("cancelled", (2, 0, 2, 2, 0))
    (cancelled,) = storefront(order, "order.cancelled")
    assert (cancelled["by"], cancelled["store"], cancelled["lines"][0]["quantity"]) == ("store", store, 2)
    assert [e["type"] for e in storefront(order)] == [
        "order.picked",
        "order.ready_in_store",
        "order.cancelled",
    ]
    assert history(order)[-2:] == ["ready_in_store", "cancelled"]

    simulator.export("delta", "STKBAL")  # the next extract counts the units back on the shelf
    exchange_sync()

    assert availability_by_pair([pair])[pair].available == before
    level = StockLevel.objects.get(product=product, location_id=store)
    ((on_hand, promised),) = simulator.sql(
        "SELECT SBQOH, SBQRS FROM STKBAL WHERE SBITEM = ? AND SBMAG = ?", (product.item_number, store)
    )
    assert (level.on_hand, level.promised, level.in_flight) == (int(on_hand), int(promised), 0)


def test_a_counter_cancellation_of_what_was_never_ready_is_rejected(simulator: Simulator) -> None:
    store = 3
    product = store_item(store)
    order = accepted(simulator, 1, [(product, 2)], store=store)
    at = simulator.now()
    day, clock = from_datetime(at)
    write_out(simulator, "STRRTN", [{
        "SRWEBN": order.order_number, "SRMAG": store, "SRLIGN": 1, "SRITEM": product.item_number, "SRQTE": 2,
        "SRTYPE": "C", "SRRSN": "NRET", "SRDATE": day, "SRTIME": clock,
    }], at)  # fmt: skip

    exchange_sync()

    assert outcomes(order) == [("C", "rejected", 2, 0)]
    order.refresh_from_db()
    assert (order.status, counters(line_of(order))) == ("accepted", (0, 0, 0, 0, 0))


# --- Left to itself -----------------------------------------------------------------------------------


def test_orders_the_as400_moves_on_by_itself_end_up_here_as_it_has_them(simulator: Simulator) -> None:
    """A working day at the AS400: picking, shipping, click and collect not collected, store returns."""
    home_a, home_b = warehouse_items(2)
    store = 3
    collect = store_item(store)
    orders = [
        accepted(simulator, 1, [(home_a, 2), (home_b, 1)]),
        accepted(simulator, 2, [(home_b, 1)]),
        accepted(simulator, 3, [(collect, 2)], store=store),
    ]
    with Simulator.from_settings(
        items=60, store_sales_per_hour=0, auto_lifecycle=True, stkbal_delta_minutes=60,
        collect_within_minutes=120, not_collected_percent=100,  # nobody comes for click and collect
        store_return_after_minutes=180, store_return_percent=100,  # one unit of each line comes back
    ) as working:  # fmt: skip
        for _ in range(8):
            working.step(minutes=60)
            exchange_sync()

    assert set(As400Event.objects.values_list("outcome", flat=True)) == {"applied"}
    assert {e.code for e in As400Event.objects.all()} == {"P", "E", "L", "C", "R"}
    for order in orders:
        ours = {line.line_number: line for line in OrderLine.objects.filter(order=order)}
        for theirs in simulator.order(order.order_number):
            line = ours[theirs.lign]
            assert (line.picked, line.shipped + line.ready, line.cancelled, line.returned) == (
                theirs.qtprp, theirs.qtexp, theirs.qtann + theirs.qtman, theirs.qtret,
            )  # fmt: skip
    assert [Order.objects.get(pk=o.pk).status for o in orders] == [
        "partially_returned",
        "returned",
        "cancelled",
    ]
    assert Return.objects.filter(source="store", status="received").count() == 3  # one per home line
    assert not Alert.objects.filter(kind="as400_event_discrepancy").exists()
