"""The AS400 down while a thousand orders are placed, then back: each imported once, in order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from integration.as400.codec import RecordCodec
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import OutboxMessage
from integration.outbox.dispatch import outbox_dispatch, outbox_follow_up
from inventory.models import StockLevel
from orders.models import Order
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

ORDERS = 1000


def test_a_thousand_orders_placed_while_the_as400_is_down_reach_it_once_in_order(
    simulator: Simulator, settings: Any
) -> None:
    settings.OUTBOX_MAX_ORDERS_PER_FILE = 200
    settings.OUTBOX_MAX_ORDERS_PER_MINUTE = 400
    products = warehouse_items(5)
    StockLevel.objects.filter(product__in=products).update(on_hand=10_000)  # our projection
    simulator.sql("SELECT 1")  # the AS400 has its own figures: make them big enough too
    with simulator.conn:
        simulator.conn.execute(
            "UPDATE STKBAL SET SBQOH = 10000 WHERE SBMAG = 900 AND SBITEM IN ({})".format(",".join("?" * 5)),
            [p.item_number for p in products],
        )
    simulator.fault_on("down")
    t = TUESDAY
    for n in range(ORDERS):
        place(n, products[n % 5])
        if n % 100 == 99:  # 100 orders every 3 minutes; the dispatcher runs meanwhile
            outbox_follow_up(now=t)
            outbox_dispatch(now=t)
            t += timedelta(minutes=3)

    held = outbox_dispatch(now=t + timedelta(minutes=30))
    assert held.files == []
    assert "has not read" in held.held
    pending_while_down = OutboxMessage.objects.filter(state="pending").count()
    assert pending_while_down > 0

    simulator.fault_off("down")  # the AS400 is back
    for _ in range(12):
        simulator.import_now()
        exchange_sync()
        t += timedelta(minutes=31)
        outbox_follow_up(now=t)
        outbox_dispatch(now=t)
    simulator.import_now()
    exchange_sync()

    numbers = [f"WEB-{n:06d}" for n in range(ORDERS)]
    assert as400_orders(simulator) == numbers  # every order, once
    assert Order.objects.filter(status="accepted").count() == ORDERS
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"acked"}
    codec = RecordCodec.for_file("ORDIMP", 297)
    done = sorted((Path(settings.AS400_EXCHANGE_DIR) / "IN" / "DONE").glob("ORDIMP_*.DAT"))
    sent: list[str] = []
    for dat in done:
        in_file = [r["OHWEBN"] for r in codec.iter_decode(dat.read_bytes()) if r.get("OHTYPE") == "H"]
        assert in_file == sorted(in_file)  # in order of placement within each file
        sent += in_file
    assert sorted(sent) == numbers  # and no order in two files
