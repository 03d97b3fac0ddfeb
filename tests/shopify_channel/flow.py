"""Helpers for the Shopify flow tests: the two simulators side by side, and Shopify's webhooks relayed.

``ShopifySide`` is the Shopify simulator with the AS400 simulator's catalogue published to it (our
own catalogue and stock pushes, through the Admin API) and its locations mapped; its checkout is
a Shopify customer buying. The simulator sends its signed webhooks to a real HTTP endpoint on
loopback (``tests/integration/webhook_receiver.py``); :func:`deliver_webhooks` hands each one, its
exact bytes and Shopify's headers, to the platform's endpoint (``POST /shopify/webhooks``) and runs
the task the intake queues for each. ``as400_minute`` is what the qcluster does for the AS400
each minute (tests/flows/test_order_life.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from integration import tasks
from integration.as400.simulator.engine import Simulator
from integration.shopify.client import ShopifyClient
from integration.shopify.models import WebhookEvent
from integration.shopify.webhooks import webhook_event_apply
from inventory.models import Product
from shopify_channel.models import ShopifyOrder
from tests.factories.shopify import SimAdmin
from tests.factories.shopify_channel import Shop
from tests.integration.webhook_receiver import Receiver

WEBHOOK_URL = "/shopify/webhooks"
#: What Shopify's admin shows of an order's fulfillments (a query of the tests, not a document of ours).
FULFILLMENTS = (
    "query($id: ID!) { order(id: $id) { fulfillments(first: 10) { id trackingInfo(first: 5) { number } } } }"
)


def as400_minute(sim: Simulator) -> None:
    """The qcluster's minute for the AS400: send, the AS400 imports and answers, we read it."""
    tasks.outbox_dispatch()
    sim.import_now()
    tasks.as400_sync()
    sim.step(minutes=1)


@dataclass
class ShopifySide:
    sim: Any
    shop: Shop
    receiver: Receiver
    relayed: int = 0
    orders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def client(self) -> ShopifyClient:
        return self.shop.client

    def checkout(self, product: Product, quantity: int, *, pickup: bool = False) -> dict[str, Any]:
        """A Shopify customer buys ``quantity`` of ``product`` (home delivery, or pickup at our store 1)."""
        extra: dict[str, Any] = {"pickup_location": self.shop.store} if pickup else {}
        order = self.sim.checkout(
            lines=[{"sku": product.mapping.sku, "quantity": quantity}],
            customer={"first_name": "Zoë", "last_name": "Lefèvre", "email": "zoe@example.fr",
                      "address1": "3 place Bellecour", "zip": "69002", "city": "Lyon", "country_code": "FR"},
            **extra,
        )  # fmt: skip
        self.orders.append(order)
        return dict(order)

    def store_product(self) -> Product:
        """A product our store 1 holds enough of to sell for pickup."""
        product = (
            Product.objects.filter(status="A", stock_levels__location_id=1, stock_levels__on_hand__gte=3)
            .order_by("item_number")
            .first()
        )
        assert product is not None
        return product

    def order(self, placed: dict[str, Any]) -> dict[str, Any]:
        """The order as Shopify's Admin API tells it now."""
        answer = self.client.execute("order", {"id": gid(placed)})
        assert answer.data is not None
        return dict(answer.data["order"])

    def fulfillments(self, placed: dict[str, Any]) -> list[list[str]]:
        """Shopify's fulfillments of the order, each as its tracking numbers (read from the Admin API)."""
        body = SimAdmin(self.sim).post(FULFILLMENTS, {"id": gid(placed)}).json()
        assert "errors" not in body, body
        return [[t["number"] for t in f["trackingInfo"]] for f in body["data"]["order"]["fulfillments"]]


def gid(placed: dict[str, Any]) -> str:
    return str(placed.get("admin_graphql_api_id") or f"gid://shopify/Order/{placed['id']}")


def fulfillment_orders(side: ShopifySide, placed: dict[str, Any]) -> list[dict[str, Any]]:
    answer = side.client.execute("fulfillment_orders", {"id": gid(placed)})
    assert answer.data is not None
    return list(answer.data["order"]["fulfillmentOrders"]["nodes"])


def shopify_order(placed: dict[str, Any]) -> ShopifyOrder:
    return ShopifyOrder.objects.select_related("order").get(admin_graphql_api_id=gid(placed))


def shipped_order(side: ShopifySide, sim: Simulator, product: Product) -> tuple[dict[str, Any], ShopifyOrder]:
    """A Shopify customer's unit of ``product``, sent to the AS400, which ships it (its fulfillment
    is then a call to Shopify, queued): the checkout, and its order here."""
    placed = side.checkout(product, 1)
    deliver_webhooks(side)
    link = shopify_order(placed)
    as400_minute(sim)
    sim.ship(link.order.order_number)
    as400_minute(sim)
    return placed, link


def deliver_webhooks(side: ShopifySide) -> int:
    """Relay what the simulator sent since last time to our endpoint, then apply it (the intake's task)."""
    assert side.sim.webhooks_wait(timeout=10), "the simulator's deliveries did not settle"
    client = Client()
    fresh = side.receiver.received[side.relayed :]
    side.relayed += len(fresh)
    for request in fresh:
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in request.headers.items()
            if k.lower().startswith("x-shopify-")
        }
        response = client.post(WEBHOOK_URL, data=request.body, content_type="application/json", **headers)
        assert response.status_code == 200, response.content
    # what the task each stored event queues does (integration.shopify.tasks.webhook_event_apply)
    for pk in (
        WebhookEvent.objects.filter(state="received")
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    ):
        webhook_event_apply(event_id=pk)
    return len(fresh)
