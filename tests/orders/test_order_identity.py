"""One web order at the AS400 is one order here: numbers that differ by a blank, events of another AS400 order.

The attack: client A placed ``XC-B5B86D0E``, client B `` XC-B5B86D0E`` (a leading blank). Both were
accepted, the AS400 made two orders of them, and the pick and shipment of B's were applied to A's:
A's storefront was told ``order.shipped`` with B's tracking number. Now B's number is refused, a
web number from the AS400 is matched exactly as read (never trimmed), and a record naming another
AS400 order (OSCDE, AKCDE) under our web number is kept as a discrepancy, not applied.

Through the API, the outbox, the simulated AS400 and its real exchange folder; what no platform
sends any more (an order under a blank-led number) is written into IN/ by hand, as another system
sharing the AS400, or a platform without this check, would have written it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from integration.as400.codec import RecordCodec, from_datetime
from integration.as400.control import control_for
from integration.as400.files import write_pair
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, StorefrontClient, StorefrontEvent
from integration.outbox.dispatch import outbox_dispatch
from integration.storefront.clients import storefront_client_create
from inventory.models import Product
from orders.models import As400Event, Order, OrderLine
from tests.factories.orders import warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

NUMBER = "XC-B5B86D0E"
CUSTOMER = {"last_name": "Lefèvre", "first_name": "Zoë", "city": "Lyon", "postal_code": "69003"}


def storefront(name: str) -> APIClient:
    _, token = storefront_client_create(name=name, scopes=[s.value for s in StorefrontClient.Scope])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def order_through_the_api(api: APIClient, number: str, product: Product) -> Any:
    sku = product.mapping.sku
    reservation = api.post("/api/v1/reservations/", {"lines": [{"sku": sku, "quantity": 1}]}, format="json")
    assert reservation.status_code == 201, reservation.content
    return api.post(
        "/api/v1/orders/",
        {"order_number": number, "reservation": reservation.json()["id"], "delivery": "home",
         "customer": CUSTOMER, "lines": [{"sku": sku, "quantity": 1, "unit_price": str(product.price)}]},
        format="json",
    )  # fmt: skip


def accepted_through_the_api(sim: Simulator, api: APIClient, number: str, product: Product) -> Order:
    response = order_through_the_api(api, number, product)
    assert response.status_code == 201, response.content
    outbox_dispatch(now=TUESDAY)
    sim.import_now()
    exchange_sync()
    order = Order.objects.get(order_number=number)
    assert order.status == "accepted"
    assert order.as400_order_number
    return order


def next_seq(sim: Simulator, folder: Any, file: str, direction: str) -> int:
    return (
        max([sim.last_seq(file, direction)] + [int(ok.stem[-6:]) for ok in folder.rglob(f"{file}_*.OK")]) + 1
    )


def write_pair_by_hand(
    sim: Simulator, direction: str, file: str, records: Iterable[Mapping[str, Any]], at: datetime
) -> None:
    """A pair in IN/ or OUT/, written as a well-behaved writer would (control record and all)."""
    folder = sim.config.in_dir if direction == "IN" else sim.config.out_dir
    seq = next_seq(sim, folder, file, direction)
    ccsid = int(settings.AS400_CCSID)
    data = RecordCodec.for_file(file, ccsid).encode_many(records)
    control = control_for(file, data, seq=seq, kind="D", at=at, ccsid=ccsid)
    write_pair(folder, file, seq, data, control.encode(ccsid))


def ordimp(number: str, product: Product, at: datetime) -> list[dict[str, Any]]:
    day, clock = from_datetime(at)
    return [
        {"OHTYPE": "H", "OHWEBN": number, "OHDATE": day, "OHTIME": clock, "OHMODE": "D", "OHMAGL": 900,
         "OHNOM": "Martin", "OHPAYS": "FR", "OHTOTL": product.price, "OHNBL": 1},
        {"OLTYPE": "L", "OLWEBN": number, "OLLIGN": 1, "OLITEM": product.item_number, "OLQTE": 1,
         "OLPRIX": product.price, "OLMAG": 900},
    ]  # fmt: skip


def counters(order: Order) -> tuple[int, int, int, int, int]:
    line = OrderLine.objects.get(order=order)
    return (line.picked, line.shipped, line.ready, line.cancelled, line.returned)


def told(order: Order) -> list[str]:
    return list(
        StorefrontEvent.objects.filter(order_number=order.order_number)
        .order_by("id")
        .values_list("type", flat=True)
    )


def test_numbers_that_differ_by_a_blank_never_share_an_order_nor_its_events(simulator: Simulator) -> None:
    # given client A's order, accepted by the AS400
    product = warehouse_items(1)[0]
    a, b = storefront("shop-a"), storefront("shop-b")
    ours = accepted_through_the_api(simulator, a, NUMBER, product)

    # when client B places the same number with a leading blank
    response = order_through_the_api(b, f" {NUMBER}", product)

    # then it is refused, naming the field, and nothing of it is written or sent
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["detail"]) == ["order_number"]
    assert "order_number" in error["message"]
    assert list(Order.objects.values_list("order_number", flat=True)) == [NUMBER]

    # given the AS400 holds such an order all the same (written into IN/ by another writer), and
    # picks and ships it
    write_pair_by_hand(simulator, "IN", "ORDIMP", ordimp(f" {NUMBER}", product, TUESDAY), TUESDAY)
    simulator.import_now()
    simulator.step(minutes=1)
    theirs = str(simulator.sql("SELECT WOCDE FROM WEBORD WHERE WOWEBN = ?", (f" {NUMBER}",))[0][0]).strip()
    assert theirs
    assert theirs != ours.as400_order_number  # two orders at the AS400
    simulator.pick(f" {NUMBER}")
    simulator.step(minutes=1)
    shipped = simulator.ship(f" {NUMBER}")
    tracking = str(shipped[0]["OSTRK"]).strip()
    simulator.step(minutes=1)
    simulator.return_store(f" {NUMBER}", store=1)  # STRRTN carries no AS400 number: the web number alone

    # when the platform reads what the AS400 sent
    exchange_sync()

    # then none of it is applied to A's order: kept as events of an order we do not know
    ours.refresh_from_db()
    assert ours.status == "accepted"
    assert counters(ours) == (0, 0, 0, 0, 0)
    assert told(ours) == ["order.accepted"]
    assert not StorefrontEvent.objects.filter(payload__data__tracking=tracking).exists()
    events = As400Event.objects.order_by("id")
    assert [(e.file, e.code, e.order_number, e.outcome, e.order_id) for e in events] == [
        ("ORDSTS", "P", f" {NUMBER}", "unknown_order", None),
        ("ORDSTS", "E", f" {NUMBER}", "unknown_order", None),
        ("STRRTN", "R", f" {NUMBER}", "unknown_order", None),
    ]


def test_an_ordsts_record_with_our_web_number_and_another_as400_number_is_not_applied(
    simulator: Simulator,
) -> None:
    # given client A's order, accepted by the AS400 as its order CDE
    product = warehouse_items(1)[0]
    ours = accepted_through_the_api(simulator, storefront("shop-a"), NUMBER, product)
    day, clock = from_datetime(TUESDAY + timedelta(minutes=5))
    other = "9" * 10 if ours.as400_order_number != "9" * 10 else "8" * 10

    def shipment(cde: str, tracking: str) -> dict[str, Any]:
        return {"OSWEBN": NUMBER, "OSCDE": cde, "OSLIGN": 1, "OSITEM": product.item_number, "OSQTE": 1,
                "OSEVT": "E", "OSTRK": tracking, "OSDATE": day, "OSTIME": clock}  # fmt: skip

    # when an ORDSTS ships "our" web number's line 1 under another AS400 order
    write_pair_by_hand(simulator, "OUT", "ORDSTS", [shipment(other, "TRK-NOT-OURS")], TUESDAY)
    exchange_sync()

    # then it is kept as another order's event, alerted, and our order has not moved
    ours.refresh_from_db()
    assert (ours.status, counters(ours)) == ("accepted", (0, 0, 0, 0, 0))
    assert told(ours) == ["order.accepted"]
    event = As400Event.objects.get(tracking="TRK-NOT-OURS")
    assert (event.outcome, event.order_id, event.applied_quantity) == ("unknown_order", None, 0)
    assert (event.order_number, event.as400_order_number) == (NUMBER, other)
    assert other in event.note
    assert ours.as400_order_number in event.note
    assert Alert.objects.filter(kind="as400_event_discrepancy").exists()

    # and the same record under our AS400 number is ours
    write_pair_by_hand(simulator, "OUT", "ORDSTS", [shipment(ours.as400_order_number, "TRK-OURS")], TUESDAY)
    exchange_sync()
    ours.refresh_from_db()
    assert (ours.status, counters(ours)) == ("shipped", (1, 1, 0, 0, 0))
    assert As400Event.objects.get(tracking="TRK-OURS").outcome == "applied"


def test_an_ordack_for_another_as400_order_under_our_web_number_is_not_applied(simulator: Simulator) -> None:
    # given client A's order, accepted by the AS400 as its order CDE
    product = warehouse_items(1)[0]
    ours = accepted_through_the_api(simulator, storefront("shop-a"), NUMBER, product)
    cde = ours.as400_order_number
    history = list(ours.events.values_list("status_to", "cause"))
    other = "9" * 10 if cde != "9" * 10 else "8" * 10
    day, clock = from_datetime(TUESDAY + timedelta(minutes=5))

    # when an ORDACK answers D for our web number with another AS400 order number
    write_pair_by_hand(
        simulator, "OUT", "ORDACK",
        [{"AKWEBN": NUMBER, "AKCDE": other, "AKSTAT": "D", "AKDATE": day, "AKTIME": clock}], TUESDAY,
    )  # fmt: skip
    report = exchange_sync()

    # then it is an anomaly, alerted, and our order keeps its AS400 number and history
    ours.refresh_from_db()
    assert (ours.status, ours.as400_order_number) == ("accepted", cde)
    assert list(ours.events.values_list("status_to", "cause")) == history
    (run,) = [r for r in report.runs if r.file == "ORDACK"]
    assert run.counts.get("duplicate", 0) == 0
    assert run.quality["acks_for_another_as400_order"]["count"] == 1
    assert Alert.objects.filter(kind="ordack_anomaly").exists()
