"""An order's whole life, as a storefront lives it: through the API, the scheduled tasks and its webhooks.

The storefront reserves and orders through the REST API; the platform's own tasks (the ones the
qcluster runs every minute) send the order, apply what the simulated AS400 answers and deliver the
webhooks. The storefront's endpoint is a real HTTP server that checks every request with nothing
but its secret and the standard library's ``hmac``. Each step the AS400 or a store takes (picked,
shipped, returned at a store counter; a click and collect left uncollected and cancelled at the
counter) must reach the storefront on its own, signed, once, in order, and the same events must
read back from the polling endpoint; the uncollected units must be on sale again after the next
extract.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from integration import tasks
from integration.as400.simulator.engine import Simulator
from integration.models import StorefrontClient
from integration.storefront.clients import storefront_client_create, storefront_client_webhook_set
from inventory.models import Product
from inventory.selectors import availability_by_pair
from tests.factories.orders import warehouse_items
from tests.integration.webhook_receiver import Receiver, running_receiver
from tests.moments import TUESDAY

# The process at the simulator's time (outside the batch window, when the dispatcher holds back).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock(TUESDAY)]

CUSTOMER = {"last_name": "Œuvray", "first_name": "Zoë", "address_line1": "3 place Bellecour",
            "postal_code": "69002", "city": "Lyon", "email": "zoe@example.fr"}  # fmt: skip


@pytest.fixture
def shop(simulator: Simulator) -> Iterator[tuple[APIClient, StorefrontClient, Receiver]]:
    client, token = storefront_client_create(
        name="shop", scopes=[s.value for s in StorefrontClient.Scope], can_see_pilot=True
    )
    with running_receiver() as receiver:
        client, secret = storefront_client_webhook_set(client=client, url=receiver.url)
        assert secret  # shown once: the storefront keeps it, and only it, to check our signatures
        receiver.secret = secret
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        yield api, client, receiver


def every_minute(sim: Simulator) -> None:
    """What the qcluster's schedules do each minute, with the AS400's import job and a minute passing."""
    tasks.outbox_dispatch()
    sim.import_now()
    tasks.as400_sync()
    tasks.webhooks_deliver()
    sim.step(minutes=1)  # two movements in the same second would be the same record


def order_through_the_api(
    api: APIClient, number: str, product: Product, quantity: int, **delivery: Any
) -> None:
    sku = product.mapping.sku
    location = delivery.get("pickup_location")
    reservation = api.post(
        "/api/v1/reservations/",
        {"lines": [{"sku": sku, "quantity": quantity, **({"location": location} if location else {})}]},
        format="json",
    )
    assert reservation.status_code == 201, reservation.content
    order = api.post(
        "/api/v1/orders/",
        {"order_number": number, "reservation": reservation.json()["id"], "delivery": "home", **delivery,
         "customer": CUSTOMER, "lines": [{"sku": sku, "quantity": quantity, "unit_price": str(product.price)}]},
        format="json",
    )  # fmt: skip
    assert order.status_code == 201, order.content


def told(receiver: Receiver, number: str) -> list[dict[str, Any]]:
    """What the storefront's endpoint received for this order, each checked with the secret only."""
    bodies = [r for r in receiver.received if r.json["data"]["order_number"] == number]
    assert all(r.verified for r in bodies), "a webhook failed its signature check"
    assert all(r.event_id == r.json["id"] for r in bodies)
    return [r.json for r in bodies]


def test_placed_picked_shipped_returned_at_a_store_each_step_a_signed_webhook(
    simulator: Simulator, shop: tuple[APIClient, StorefrontClient, Receiver]
) -> None:
    api, _, receiver = shop
    (product,) = warehouse_items(1)
    order_through_the_api(api, "WEB-LIFE-1", product, 2)

    every_minute(simulator)  # sent, imported, acknowledged
    simulator.pick("WEB-LIFE-1")
    every_minute(simulator)
    simulator.ship("WEB-LIFE-1")
    every_minute(simulator)
    simulator.return_store("WEB-LIFE-1", line=1, qty=1, store=7)
    every_minute(simulator)
    every_minute(simulator)  # nothing new: nothing told twice

    events = told(receiver, "WEB-LIFE-1")
    assert [e["type"] for e in events] == [
        "order.accepted",
        "order.picked",
        "order.shipped",
        "order.returned",
    ]
    assert len({e["id"] for e in events}) == 4
    accepted, _, shipped, returned = (e["data"] for e in events)
    assert accepted["as400_order_number"]
    assert shipped["tracking"]
    assert shipped["lines"] == [{"line_number": 1, "sku": product.mapping.sku, "quantity": 2}]
    assert (returned["where"], returned["store"], returned["lines"][0]["quantity"]) == ("store", 7, 1)

    order = api.get("/api/v1/orders/WEB-LIFE-1/").json()
    assert order["status"] == "partially_returned"
    (line,) = order["lines"]
    assert (line["shipped"], line["returned"], line["tracking_numbers"]) == (2, 1, [shipped["tracking"]])
    assert [s["to"] for s in order["events"] if s["line"] is None] == [
        "placed", "sent", "accepted", "picked", "shipped", "partially_returned",
    ]  # fmt: skip
    (store_return,) = api.get("/api/v1/returns/", {"order_number": "WEB-LIFE-1"}).json()["results"]
    assert (store_return["source"], store_return["status"], store_return["store"]) == ("store", "received", 7)
    assert store_return["rma"] == returned["rma"]

    polled = api.get("/api/v1/orders/WEB-LIFE-1/events/").json()
    assert [e["id"] for e in polled["events"]] == [e["id"] for e in events]


def test_a_click_and_collect_cancelled_at_the_counter_is_told_and_on_sale_again_after_the_next_extract(
    simulator: Simulator, shop: tuple[APIClient, StorefrontClient, Receiver]
) -> None:
    api, _, receiver = shop
    store = 3
    product = Product.objects.filter(
        status="A", stock_levels__location_id=store, stock_levels__on_hand__gte=5
    ).order_by("item_number").first()  # fmt: skip
    assert product is not None
    pair = (product.pk, store)
    before = availability_by_pair([pair])[pair].available

    order_through_the_api(api, "WEB-LIFE-2", product, 2, delivery="click_and_collect", pickup_location=store)
    assert availability_by_pair([pair])[pair].available == before - 2
    every_minute(simulator)
    simulator.ready("WEB-LIFE-2")
    every_minute(simulator)
    simulator.cancel_store("WEB-LIFE-2")  # nobody came for it
    every_minute(simulator)

    events = told(receiver, "WEB-LIFE-2")
    assert [e["type"] for e in events] == [
        "order.accepted", "order.picked", "order.ready_in_store", "order.cancelled",
    ]  # fmt: skip
    cancelled = events[-1]["data"]
    assert (cancelled["by"], cancelled["store"], cancelled["status"]) == ("store", store, "cancelled")
    # Until the AS400 says so in an extract, the units stay off sale: selling them twice is worse.
    assert availability_by_pair([pair])[pair].available == before - 2

    simulator.export("delta", "STKBAL")  # the next stock extract: the units are back on the shelf
    tasks.as400_sync()

    assert availability_by_pair([pair])[pair].available == before
