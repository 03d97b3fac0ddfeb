"""A web return reaches the simulated AS400: the RTNIMP file, the AS400 expecting the goods, and
the return ``announced`` once its file is written.

The order goes the real way (checkout, ORDIMP, the simulator's import job, ORDACK, ORDSTS E from
the simulator); the line's shipped counter is set as ORDSTS E reports it, since its applier is not
under test here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import F
from rest_framework.test import APIClient

from integration.as400.codec import RecordCodec, from_datetime
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import OutboxMessage
from integration.outbox.dispatch import outbox_dispatch
from orders.models import Order, OrderLine
from returns.models import Return
from tests.factories.api import MakeApi
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


def accepted_and_shipped(simulator: Simulator, quantity: int = 3) -> Order:
    """WEB-000001 for ``quantity`` units of one item, accepted by the AS400 and shipped whole."""
    product = warehouse_items(1)[0]
    place(1, product, quantity=quantity)
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()
    exchange_sync()
    order = Order.objects.get()
    assert order.status == "accepted"
    simulator.ship(order.order_number)
    exchange_sync()
    OrderLine.objects.filter(order=order).update(picked=F("quantity"), shipped=F("quantity"))
    return order


def ask_return(api: APIClient, order: Order, quantity: int) -> str:
    response = api.post(
        "/api/v1/returns/",
        {
            "order_number": order.order_number,
            "lines": [{"line_number": 1, "quantity": quantity}],
            "reason": "DEFE",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return str(response.json()["rma"])


def test_a_web_return_goes_out_as_rtnimp_and_the_as400_expects_its_goods(
    simulator: Simulator, make_api: MakeApi
) -> None:
    order = accepted_and_shipped(simulator)
    api = make_api("web")  # the client the orders suite places its orders as
    rma = ask_return(api, order, 2)
    assert Return.objects.get().status == "requested"
    sent_at = TUESDAY + timedelta(minutes=5)

    report = outbox_dispatch(file="RTNIMP", now=sent_at)

    assert report.files == ["RTNIMP_000001"]
    ret = Return.objects.get()
    assert (ret.status, ret.announced_at) == ("announced", sent_at)
    assert api.get(f"/api/v1/returns/{rma}/").json()["status"] == "announced"
    dat = Path(settings.AS400_EXCHANGE_DIR) / "IN" / "RTNIMP_000001.DAT"
    records = list(RecordCodec.for_file("RTNIMP", int(settings.AS400_CCSID)).iter_decode(dat.read_bytes()))
    message = OutboxMessage.objects.get(kind="RTNIMP")
    day, clock = from_datetime(message.created_at)
    item = order.lines.get().product.item_number
    assert [{k: (v.strip() if isinstance(v, str) else v) for k, v in r.items()} for r in records] == [
        {
            "RIWEBN": "WEB-000001", "RIRMA": rma, "RILIGN": 1, "RIITEM": item, "RIQTE": 2, "RIRSN": "DEFE",
            "RIMAG": 900, "RIDATE": day, "RITIME": clock,
        }
    ]  # fmt: skip

    imported = simulator.import_now()

    assert imported.returns_expected == 1
    assert "RTNIMP_000001" in imported.done
    expected = simulator.conn.execute(
        "SELECT WEBN, RMA, LIGN, ITEM, QTE, RSN, MAG, RECEIVED_AT FROM SIM_RETURN"
    )
    assert [tuple(row) for row in expected] == [("WEB-000001", rma, 1, item, 2, "DEFE", 900, None)]


def test_a_return_waits_for_the_orders_ack_and_a_second_dispatch_sends_nothing_again(
    simulator: Simulator, make_api: MakeApi
) -> None:
    order = accepted_and_shipped(simulator)
    api = make_api("web")
    OutboxMessage.objects.filter(kind="ORDIMP").update(state="sent")  # as if the ORDACK had not come yet
    ask_return(api, order, 1)

    held = outbox_dispatch(file="RTNIMP", now=TUESDAY + timedelta(minutes=5))

    assert held.files == []
    assert Return.objects.get().status == "requested"
    OutboxMessage.objects.filter(kind="ORDIMP").update(state="acked")
    assert outbox_dispatch(file="RTNIMP", now=TUESDAY + timedelta(minutes=6)).files == ["RTNIMP_000001"]
    assert outbox_dispatch(file="RTNIMP", now=TUESDAY + timedelta(minutes=7)).files == []
    ret = Return.objects.get()
    assert (ret.status, ret.announced_at) == ("announced", TUESDAY + timedelta(minutes=6))


def test_an_announcement_sent_again_keeps_the_first_time_and_a_received_return_stays_received(
    simulator: Simulator, make_api: MakeApi
) -> None:
    order = accepted_and_shipped(simulator)
    api = make_api("web")
    ask_return(api, order, 1)
    ask_return(api, order, 1)
    first, second = Return.objects.order_by("id")
    outbox_dispatch(file="RTNIMP", now=TUESDAY + timedelta(minutes=5))
    # The second's goods arrive (ORDSTS R, applied elsewhere) while both announcements go out again.
    Return.objects.filter(pk=second.pk).update(status="received")
    OutboxMessage.objects.filter(kind="RTNIMP").update(state="pending", outbound_file=None)

    outbox_dispatch(file="RTNIMP", now=TUESDAY + timedelta(minutes=9))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.announced_at) == ("announced", TUESDAY + timedelta(minutes=5))
    assert (second.status, second.announced_at) == ("received", TUESDAY + timedelta(minutes=5))
