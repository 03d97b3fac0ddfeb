"""ORDACK from the simulated AS400: accepted, duplicate and refused orders, and the in-flight stock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from integration.as400.codec import RecordCodec
from integration.as400.control import control_for
from integration.as400.files import write_pair
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, OutboxMessage
from integration.outbox.dispatch import outbox_dispatch
from inventory.models import StockLevel
from inventory.selectors import availability_by_pair
from orders.models import Order, OrderLine
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


def level(product: Any) -> StockLevel:
    return StockLevel.objects.get(product=product, location_id=900)


def test_accepted_orders_get_their_as400_number_and_stay_in_flight_until_an_extract_counts_them(
    simulator: Simulator,
) -> None:
    product = warehouse_items(1)[0]
    place(1, product, quantity=2)
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()

    exchange_sync()

    order = Order.objects.get()
    assert order.status == "accepted"
    assert len(order.as400_order_number) > 0
    assert OrderLine.objects.get().acked_at is not None
    assert OutboxMessage.objects.get().state == "acked"
    assert level(product).in_flight == 2  # no extract taken after the ack yet
    simulator.step(minutes=10)  # the next STKBAL delta, taken after the ack, counts the order in SBQRS
    exchange_sync()
    assert level(product).in_flight == 0
    on_hand, promised = simulator.sql(
        "SELECT SBQOH, SBQRS FROM STKBAL WHERE SBITEM = ? AND SBMAG = 900", (product.item_number,)
    )[0]
    assert (level(product).on_hand, level(product).promised) == (int(on_hand), int(promised))
    pair = (product.pk, 900)
    assert availability_by_pair([pair])[pair].available == max(0, int(on_hand) - int(promised))


def test_a_refused_order_releases_its_stock_and_needs_attention(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    StockLevel.objects.filter(product=product, location_id=900).update(
        on_hand=10_000
    )  # we think more is there
    place(1, product, quantity=5_000)  # the AS400 answers STK0
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()

    exchange_sync()

    order = Order.objects.get()
    assert order.status == "refused"
    assert order.refusal_reason.startswith("STK0")
    assert (level(product).in_flight, order.lines.get().in_flight) == (0, 0)
    assert Alert.objects.get(kind="order_refused").subject == "WEB-000001"
    assert list(order.events.values_list("status_to", flat=True)) == ["placed", "refused"]


def test_an_order_sent_again_is_answered_d_and_counts_as_accepted(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    place(1, product)
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()
    exchange_sync()
    first_number = Order.objects.get().as400_order_number
    OutboxMessage.objects.update(state="pending")  # sent again, as after a lost ack

    outbox_dispatch(now=TUESDAY + timedelta(minutes=1))
    simulator.import_now()
    report = exchange_sync()

    order = Order.objects.get()
    assert (order.status, order.as400_order_number) == ("accepted", first_number)
    assert [r.counts.get("duplicate") for r in report.runs if r.file == "ORDACK"] == [1]
    assert [str(w).strip() for (w,) in simulator.sql("SELECT WOWEBN FROM WEBORD")] == ["WEB-000001"]


def test_the_same_ordack_delivered_twice_changes_nothing_the_second_time(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    place(1, product)
    outbox_dispatch(now=TUESDAY)
    simulator.fault_on("twice", file="ORDACK")
    simulator.import_now()

    report = exchange_sync()

    acks = [r for r in report.runs if r.file == "ORDACK"]
    assert [r.outcome for r in acks] == ["applied", "applied"]
    assert [r.counts.get("accepted", 0) for r in acks] == [1, 1]
    order = Order.objects.get()
    assert order.status == "accepted"
    assert list(order.events.values_list("status_to", flat=True)) == ["placed", "accepted"]


def as400_acks(sim: Simulator, records: list[dict[str, Any]]) -> str:
    """An ORDACK pair written by hand as the AS400 would (real EBCDIC), next in its sequence."""
    seq = sim.last_seq("ORDACK") + 1
    data = RecordCodec.for_file("ORDACK", 297).encode_many(records)
    control = control_for("ORDACK", data, seq=seq, kind="D", at=TUESDAY + timedelta(minutes=5), ccsid=297)
    write_pair(Path(settings.AS400_EXCHANGE_DIR) / "OUT", "ORDACK", seq, data, control.encode(297))
    return f"ORDACK_{seq:06d}"


@pytest.mark.parametrize(
    ("values", "finding"),
    [
        ({"AKSTAT": "A", "AKCDE": ""}, "accepted_without_as400_number"),
        ({"AKSTAT": "X"}, "unknown_ack_status"),
    ],
    ids=["accepted-without-number", "unknown-status"],
)
def test_an_ack_the_as400_cannot_mean_is_not_applied_and_is_reported(
    simulator: Simulator, values: dict[str, str], finding: str
) -> None:
    # given an order sent to the AS400, and an ack for it that accepts it without an AS400 number
    # (or with a status the contract does not know)
    product = warehouse_items(1)[0]
    place(1, product, quantity=2)
    outbox_dispatch(now=TUESDAY)
    before = Order.objects.get().status
    stem = as400_acks(simulator, [{"AKWEBN": "WEB-000001", "AKCDE": "C000000042", "AKDATE": 1261124,
                                   "AKTIME": 100500, **values}])  # fmt: skip

    # when the sync applies the file
    run = next(r for r in exchange_sync(files=["ORDACK"]).runs if r.file == "ORDACK")

    # then the order is left as it was, still waiting for a real answer, its units still held,
    # and the data-quality report names it
    order = Order.objects.get()
    assert run.outcome == "applied"
    assert (order.status, order.as400_order_number) == (before, "")
    assert OrderLine.objects.get().acked_at is None
    assert level(product).in_flight == 2
    assert run.quality[finding]["count"] == 1
    assert run.quality[finding]["examples"][0].startswith("WEB-000001")
    assert Alert.objects.filter(kind="data_quality", subject=stem).exists()
    assert Alert.objects.filter(kind="ordack_anomaly", subject=stem).exists()
