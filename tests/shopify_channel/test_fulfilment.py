"""Back to Shopify: a Shopify checkout goes to the AS400 once, and what the AS400 or a store does to
it comes back to Shopify, through the calls to Shopify, against the Shopify simulator.

The Shopify side is the simulator (its checkout sends the signed webhooks; its Admin API answers
our calls); the AS400 side is the AS400 simulator, stepped the way the qcluster's schedules do it
(tests/flows/test_order_life.py). Nothing of ours is stood in for: the webhook intake, the order
apply, the outbox, ORDACK/ORDSTS/STRRTN, the storefront events, the listener and the calls are the
real ones.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation
from pytest_django import Settings

from integration.as400.simulator.engine import Simulator
from integration.core.stored_texts import stored_texts_translated
from integration.shopify.calls import shopify_call_retry, shopify_calls_send
from integration.shopify.models import ShopifyCall
from orders.models import As400Event
from shopify_channel.fulfilment import FULFIL, PICKUP_READY, REFUSED_CANCEL, UNITS_CANCEL
from shopify_channel.models import ShopifyOrder
from tests.factories.orders import warehouse_items
from tests.moments import TUESDAY
from tests.shopify_channel.flow import (
    ShopifySide,
    as400_minute,
    deliver_webhooks,
    fulfillment_orders,
    shipped_order,
    shopify_order,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock(TUESDAY)]


def calls(kind: str) -> list[ShopifyCall]:
    return list(ShopifyCall.objects.filter(kind=kind).order_by("pk"))


def test_a_checkout_becomes_one_as400_order_when_its_webhook_comes_twice_and_its_shipment_a_fulfillment(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given a Shopify customer buying two units, and Shopify delivering every webhook twice
    (product,) = warehouse_items(1)
    shopify_side.sim.fault_webhooks("twice", count=10)
    placed = shopify_side.checkout(product, 2)
    assert deliver_webhooks(shopify_side) == 4  # orders/create and orders/paid, each delivered twice

    # then one order, sent once to the AS400
    link = shopify_order(placed)
    assert ShopifyOrder.objects.filter(shopify_id=link.shopify_id).count() == 1
    as400_minute(simulator)
    as400_minute(simulator)
    assert [str(w).strip() for (w,) in simulator.sql("SELECT WOWEBN FROM WEBORD")].count(
        link.order.order_number
    ) == 1

    # when the AS400 ships it (ORDSTS E with its tracking number)
    simulator.ship(link.order.order_number)
    as400_minute(simulator)
    shopify_calls_send(now=TUESDAY)

    # then Shopify holds one fulfillment of both units, with that tracking number
    (call,) = calls(FULFIL)
    assert call.state == "done", call.last_error
    (shipped,) = As400Event.objects.filter(order_id=link.order_id, kind="shipped").values_list(
        "tracking", flat=True
    )
    assert shopify_side.fulfillments(placed) == [[shipped]]
    assert all(item["remainingQuantity"] == 0 for fo in fulfillment_orders(shopify_side, placed)
               for item in fo["lineItems"]["nodes"])  # fmt: skip


def test_a_shipment_heard_twice_or_performed_twice_fulfils_once(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given a Shopify order shipped by the AS400 and its fulfillment sent
    (product,) = warehouse_items(1)
    placed, link = shipped_order(shopify_side, simulator, product)
    shopify_calls_send(now=TUESDAY)
    (call,) = calls(FULFIL)

    # when the same event is heard again (a listener run twice), and the call is performed again
    from integration.models import StorefrontEvent
    from shopify_channel.fulfilment import perform_fulfil, storefront_event_heard

    event = StorefrontEvent.objects.get(order_number=link.order.order_number, type="order.shipped")
    assert storefront_event_heard(event, TUESDAY) is None
    again = perform_fulfil(shopify_side.client, call)

    # then nothing more is queued, nothing more fulfilled
    assert len(calls(FULFIL)) == 1
    assert again["skipped"] == "nothing to ship: Shopify no longer holds these units as to be fulfilled"
    assert again["short"] == [f"line 1 ({product.mapping.sku}): 1 unit(s) not found"]
    # stored in English; staff read it in their language (the call's page: tests/shopify/test_admin.py)
    with translation.override("fr"):
        assert stored_texts_translated(again) == {
            "skipped": "rien à expédier : Shopify ne tient plus ces unités comme à expédier",
            "short": [f"ligne 1 ({product.mapping.sku}) : 1 unité(s) introuvable(s)"],
        }
    assert len(shopify_side.fulfillments(placed)) == 1


def test_a_store_cancellation_of_a_click_and_collect_cancels_it_in_shopify(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given a Shopify click and collect at our store 1, made ready then left uncollected
    product = shopify_side.store_product()
    placed = shopify_side.checkout(product, 1, pickup=True)
    deliver_webhooks(shopify_side)
    link = shopify_order(placed)
    as400_minute(simulator)
    simulator.ready(link.order.order_number)
    as400_minute(simulator)
    shopify_calls_send(now=TUESDAY)
    (ready,) = calls(PICKUP_READY)
    assert ready.state == "done", ready.last_error

    # when the store cancels it at the counter (STRRTN C)
    simulator.cancel_store(link.order.order_number)
    as400_minute(simulator)
    shopify_calls_send(now=TUESDAY)

    # then the whole order is cancelled in Shopify, its unit restocked
    (call,) = calls(UNITS_CANCEL)
    assert call.state == "done", call.last_error
    assert call.payload["by"] == "store"
    assert call.payload["whole"] is True
    assert shopify_side.order(placed)["cancelledAt"]


def test_an_as400_cancellation_of_some_units_refunds_them_with_cancel_restock(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given a Shopify order of 3 units sent to the AS400
    (product,) = warehouse_items(1)
    placed = shopify_side.checkout(product, 3)
    deliver_webhooks(shopify_side)
    link = shopify_order(placed)
    as400_minute(simulator)
    available_before = shopify_side.sim.available(product.mapping.sku)

    # when the AS400 cancels one unit (ORDSTS A)
    simulator.cancel(link.order.order_number, line=1, qty=1)
    as400_minute(simulator)
    shopify_calls_send(now=TUESDAY)

    # then Shopify holds two units, the third refunded with a CANCEL restock and back on sale
    (call,) = calls(UNITS_CANCEL)
    assert call.state == "done", call.last_error
    assert call.payload["whole"] is False
    (item,) = shopify_side.order(placed)["lineItems"]["nodes"]
    assert (item["quantity"], item["currentQuantity"]) == (3, 2)
    assert not shopify_side.order(placed)["cancelledAt"]
    assert shopify_side.sim.available(product.mapping.sku) == available_before + 1

    # and Shopify's refunds/create of that refund, when it comes, cancels nothing more here
    deliver_webhooks(shopify_side)
    line = link.order.lines.get()
    line.refresh_from_db()
    assert (line.quantity, line.cancelled) == (3, 1)


def test_a_cancellation_shopify_asked_for_is_not_sent_back(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given a Shopify order cancelled in Shopify's admin before it left
    (product,) = warehouse_items(1)
    placed = shopify_side.checkout(product, 1)
    deliver_webhooks(shopify_side)
    shopify_side.sim.cancel_in_admin(placed["admin_graphql_api_id"])
    deliver_webhooks(shopify_side)

    # then it is cancelled here, and no call tells Shopify what Shopify did
    assert shopify_order(placed).order.status == "cancelled"
    assert calls(UNITS_CANCEL) == []


def test_a_refusal_is_cancelled_in_shopify_only_by_the_setting(
    simulator: Simulator, shopify_side: ShopifySide, settings: Settings
) -> None:
    settings.SHOPIFY_CANCEL_REFUSED = True
    # given a Shopify order the AS400 refuses (ORDACK R)
    (product,) = warehouse_items(1)
    placed = shopify_side.checkout(product, 1)
    deliver_webhooks(shopify_side)
    with simulator.conn:  # meanwhile the AS400's shelf emptied: its import answers R STK0
        simulator.conn.execute(
            "UPDATE STKBAL SET SBQOH = 0 WHERE SBMAG = 900 AND SBITEM = ?", [product.item_number]
        )
    as400_minute(simulator)
    as400_minute(simulator)
    link = shopify_order(placed)
    assert link.order.status == "refused"
    shopify_calls_send(now=TUESDAY)

    # then with SHOPIFY_CANCEL_REFUSED it is cancelled in Shopify
    (call,) = calls(REFUSED_CANCEL)
    assert call.state == "done", call.last_error
    assert shopify_side.order(placed)["cancelledAt"]


def test_a_dead_fulfillment_is_alerted_and_retryable_by_staff(
    simulator: Simulator, shopify_side: ShopifySide, settings: Settings
) -> None:
    settings.SHOPIFY_CALL_MAX_ATTEMPTS = 2
    settings.SHOPIFY_HTTP_ATTEMPTS = 1
    # given a shipped Shopify order while Shopify answers 5xx
    (product,) = warehouse_items(1)
    placed = shopify_side.checkout(product, 1)
    deliver_webhooks(shopify_side)
    link = shopify_order(placed)
    as400_minute(simulator)
    simulator.ship(link.order.order_number)
    as400_minute(simulator)
    shopify_side.sim.fault_server_errors(50)

    # when its call is tried past its attempts
    shopify_calls_send(now=TUESDAY)
    with time_machine.travel(TUESDAY + timedelta(hours=2), tick=False):
        shopify_calls_send(now=TUESDAY + timedelta(hours=2))
    (call,) = calls(FULFIL)
    assert call.state == "dead"
    from integration.models import Alert

    assert Alert.objects.filter(kind="shopify_call_dead").exists()

    # then, Shopify back, staff retry it and it is done: the shipment is in Shopify
    shopify_side.sim.faults_clear()
    later = TUESDAY + timedelta(hours=3)
    shopify_call_retry(call, now=later)
    shopify_calls_send(now=later)
    call.refresh_from_db()
    assert call.state == "done", call.last_error
    assert len(shopify_side.fulfillments(placed)) == 1


def test_an_order_shipped_from_two_locations_fulfils_each_fulfillment_order_at_its_location(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given a Shopify order routed to two locations: one line at the warehouse, one at a second
    # shipping location (Shopify makes a fulfillment order at each)
    first, second = warehouse_items(2)
    sim = shopify_side.sim
    south = sim.location_add("Entrepôt Sud", fulfills_online_orders=True)
    sim.set_available(second.mapping.sku, 5, south["id"])
    placed = sim.checkout(lines=[{"sku": first.mapping.sku, "quantity": 1},
                                 {"sku": second.mapping.sku, "quantity": 2, "location": south["id"]}])  # fmt: skip
    deliver_webhooks(shopify_side)
    link = shopify_order(placed)
    before = fulfillment_orders(shopify_side, placed)

    # when the AS400 ships the whole order and the fulfillment is sent
    as400_minute(simulator)
    as400_minute(simulator)
    simulator.ship(link.order.order_number)
    as400_minute(simulator)
    shopify_calls_send(now=TUESDAY)

    # then one fulfillment per location (Shopify takes one location per fulfillment), both with the
    # tracking, each fulfillment order closed with nothing left, no unit of one taken from the other
    (call,) = calls(FULFIL)
    assert call.state == "done", call.last_error
    assert sorted(fo["assignedLocation"]["name"] for fo in before) == ["Entrepôt", "Entrepôt Sud"]
    (tracking,) = set(As400Event.objects.filter(order_id=link.order_id, kind="shipped").values_list(
        "tracking", flat=True))  # fmt: skip
    assert shopify_side.fulfillments(placed) == [[tracking], [tracking]]
    after = fulfillment_orders(shopify_side, placed)
    assert [(fo["status"], [i["remainingQuantity"] for i in fo["lineItems"]["nodes"]]) for fo in after] == [
        ("CLOSED", [0]), ("CLOSED", [0])]  # fmt: skip
    assert sim.available(second.mapping.sku, south["id"]) == 3
