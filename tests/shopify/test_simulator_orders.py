"""The Shopify simulator's orders and webhooks: the checkout, signed deliveries with Shopify's
headers and retries, payloads shaped like the fixtures, the orders query, fulfilment, cancel,
refunds, the faults on webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from integration.shopify.simulator import ShopError, ShopifySimulator
from tests.factories.shopify import HookReceiver, SimAdmin, same_shape

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify"
TOPICS = ["orders/create", "orders/paid", "orders/updated", "orders/cancelled", "refunds/create",
          "products/update", "bulk_operations/finish"]  # fmt: skip


@pytest.fixture
def hooks(shopify_sim: ShopifySimulator, admin: SimAdmin) -> Iterator[HookReceiver]:
    receiver = HookReceiver()
    shopify_sim.webhook_url = receiver.url
    yield receiver
    receiver.close()


@pytest.fixture
def admin(shopify_sim: ShopifySimulator) -> SimAdmin:
    admin = SimAdmin(shopify_sim)
    admin.product_create("Pull marin", {"sku": "PULL-M", "price": "59.00"})
    admin.product_create("Bol", {"sku": "BOL-1", "price": "12.00"})
    shopify_sim.set_available("PULL-M", 3)
    shopify_sim.set_available("BOL-1", 3)
    shopify_sim.set_available("BOL-1", 2, location="Boutique Paris")
    return admin


def test_a_checkout_commits_the_units_and_sends_signed_webhooks(shopify_sim, hooks, admin) -> None:
    # when: a customer buys 2 pulls and a bowl with a 10 € code
    order = shopify_sim.checkout([{"sku": "PULL-M", "quantity": 2}, {"sku": "BOL-1", "quantity": 1}],
                                 discount={"code": "HIVER10", "amount": "10.00"})  # fmt: skip
    assert shopify_sim.webhooks_wait()

    # then: the units left available, the order's money, orders/create then orders/paid, signed
    assert shopify_sim.available("PULL-M") == 1
    assert order["name"] == "#1001"
    assert order["current_total_price"] == "124.90"  # 118 + 12 - 10 + 4.90 shipping
    allocations = [line["discount_allocations"][0]["amount"] for line in order["line_items"]]
    assert allocations == ["9.07", "0.93"]
    assert hooks.topics() == ["orders/create", "orders/paid"]
    request = hooks.accepted()[0]
    digest = hmac.new(shopify_sim.client_secret.encode(), request["body"], hashlib.sha256).digest()
    assert request["headers"]["X-Shopify-Hmac-Sha256"] == base64.b64encode(digest).decode()
    for header in ("X-Shopify-Shop-Domain", "X-Shopify-API-Version", "X-Shopify-Webhook-Id",
                   "X-Shopify-Event-Id", "X-Shopify-Triggered-At"):  # fmt: skip
        assert request["headers"][header]
    assert json.loads(request["body"])["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"


def test_a_checkout_short_of_stock_is_refused_unless_oversold(shopify_sim, hooks, admin) -> None:
    # when: 4 pulls wanted, 3 there
    with pytest.raises(ShopError, match="only 3 available"):
        shopify_sim.checkout([{"sku": "PULL-M", "quantity": 4}])
    refused = httpx.post(
        f"{shopify_sim.url}/_sim/checkout", json={"lines": [{"sku": "PULL-M", "quantity": 4}]}
    )
    oversold = shopify_sim.checkout([{"sku": "PULL-M", "quantity": 4}], oversell=True)

    # then: refused twice (409 by the control API), then taken with the level below zero
    assert refused.status_code == 409
    assert oversold["name"] == "#1001"
    assert shopify_sim.available("PULL-M") == -1


def test_a_failed_delivery_is_retried(shopify_sim, admin) -> None:
    # given: an endpoint failing twice
    receiver = HookReceiver(statuses=[500, 502])
    shopify_sim.webhook_url = receiver.url
    try:
        # when
        shopify_sim.checkout([{"sku": "BOL-1", "quantity": 1}], paid=False)
        assert shopify_sim.webhooks_wait()

        # then: delivered on the third attempt, same webhook id each time
        assert [r["status"] for r in receiver.requests] == [500, 502, 200]
        assert len({r["headers"]["X-Shopify-Webhook-Id"] for r in receiver.requests}) == 1
    finally:
        receiver.close()


@pytest.mark.parametrize("topic", TOPICS)
def test_the_simulators_payloads_have_the_fixtures_keys_and_types(shopify_sim, hooks, admin, topic) -> None:
    # given: every topic happening once
    order = shopify_sim.checkout([{"sku": "PULL-M", "quantity": 1}, {"sku": "BOL-1", "quantity": 1}])
    shopify_sim.refund_in_admin(order["name"], [{"sku": "BOL-1", "quantity": 1}])
    shopify_sim.cancel_in_admin(shopify_sim.checkout([{"sku": "PULL-M", "quantity": 1}])["name"])
    shopify_sim.product_update_in_admin("BOL-1", price="14.00")
    bulk = admin.data("bulk_run_query", {"query": "{ products { edges { node { id } } } }"})
    shopify_sim.bulk_wait(bulk["bulkOperationRunQuery"]["bulkOperation"]["id"])
    assert shopify_sim.webhooks_wait()

    # when: the first payload of the topic beside its fixture
    sample = next(json.loads(r["body"]) for r in hooks.accepted() if r["headers"]["X-Shopify-Topic"] == topic)
    fixture = json.loads((FIXTURES / f"{topic}.json").read_text(encoding="utf-8"))

    # then
    assert same_shape(sample, fixture) == []


def test_webhook_faults_twice_late_out_of_order_never(shopify_sim, hooks, admin) -> None:
    # given: the next webhook twice, the one after late, then one out of order, then one lost
    shopify_sim.fault_webhooks("twice", topic="orders/create")
    shopify_sim.checkout([{"sku": "BOL-1", "quantity": 1}], paid=False)  # #1001 twice
    shopify_sim.fault_webhooks("late")
    shopify_sim.checkout([{"sku": "BOL-1", "quantity": 1}], paid=False)  # #1002 held
    shopify_sim.fault_webhooks("out_of_order")
    shopify_sim.checkout([{"sku": "BOL-1", "quantity": 1}], paid=False)  # #1003 after #1004
    shopify_sim.fault_webhooks("never")
    shopify_sim.checkout([{"sku": "PULL-M", "quantity": 1}], paid=False)  # #1004 lost
    shopify_sim.checkout([{"sku": "PULL-M", "quantity": 1}], paid=False)  # #1005
    assert shopify_sim.webhooks_wait()
    before_release = [json.loads(r["body"])["name"] for r in hooks.accepted()]

    # when: the late one is released
    assert shopify_sim.release_late() == 1
    assert shopify_sim.webhooks_wait()

    # then
    assert before_release == ["#1001", "#1001", "#1005", "#1003"]
    assert json.loads(hooks.accepted()[-1]["body"])["name"] == "#1002"
    first_two = hooks.accepted()[:2]
    assert first_two[0]["headers"]["X-Shopify-Event-Id"] == first_two[1]["headers"]["X-Shopify-Event-Id"]


def test_orders_updated_since_pages_by_updated_at(shopify_sim, hooks, admin) -> None:
    # given: three orders
    names = [shopify_sim.checkout([{"sku": "BOL-1", "quantity": 1}])["name"] for _ in range(3)]
    first_at = shopify_sim.order_payload(names[0])["updated_at"]

    # when: a page of 2 since before the first, then the next page; then since the first
    page = admin.data("orders_updated_since", {"first": 2, "query": "updated_at:>'2000-01-01T00:00:00Z'"})[
        "orders"
    ]
    rest = admin.data("orders_updated_since", {"first": 2, "after": page["pageInfo"]["endCursor"],
                                               "query": "updated_at:>'2000-01-01T00:00:00Z'"})["orders"]  # fmt: skip
    since = admin.data("orders_updated_since", {"first": 10, "query": f"updated_at:>='{first_at}'"})["orders"]

    # then
    assert [n["name"] for n in page["nodes"]] == names[:2]
    assert page["pageInfo"]["hasNextPage"] is True
    assert [n["name"] for n in rest["nodes"]] == names[2:]
    assert [n["name"] for n in since["nodes"]] == names


def test_fulfilment_with_tracking_then_refund_restocks(shopify_sim, hooks, admin) -> None:
    # given: an order of 2 pulls
    order_gid = shopify_sim.checkout([{"sku": "PULL-M", "quantity": 2}])["admin_graphql_api_id"]
    fo = admin.data("fulfillment_orders", {"id": order_gid})["order"]["fulfillmentOrders"]["nodes"][0]

    # when: fulfilled with tracking, then one unit refunded and returned to the warehouse
    made = admin.data("fulfillment_create", {"fulfillment": {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}],
        "trackingInfo": {"number": "6A12345678901", "company": "Colissimo", "url": "https://laposte.fr/6A1"},
        "notifyCustomer": True}})["fulfillmentCreate"]  # fmt: skip
    order = admin.data("order", {"id": order_gid})["order"]
    line = order["lineItems"]["nodes"][0]
    refund = admin.data("refund_create", {"input": {"orderId": order_gid, "refundLineItems": [
        {"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN", "locationId": fo["assignedLocation"]["location"]["id"]}]}})  # fmt: skip

    # then
    assert made["userErrors"] == []
    assert made["fulfillment"]["trackingInfo"] == [
        {"company": "Colissimo", "number": "6A12345678901", "url": "https://laposte.fr/6A1"}
    ]
    assert order["displayFulfillmentStatus"] == "FULFILLED"
    assert refund["refundCreate"]["userErrors"] == []
    assert refund["refundCreate"]["refund"]["totalRefundedSet"]["shopMoney"]["amount"] == "59.00"
    assert shopify_sim.available("PULL-M") == 2  # 3 - 2 + 1
    assert shopify_sim.webhooks_wait()
    assert "refunds/create" in hooks.topics()


def test_pickup_prepared_and_cancel_with_restock(shopify_sim, hooks, admin) -> None:
    # given: a pickup order at the Paris store
    order_gid = shopify_sim.checkout([{"sku": "BOL-1", "quantity": 2}], pickup_location="Boutique Paris")[
        "admin_graphql_api_id"
    ]
    fo = admin.data("fulfillment_orders", {"id": order_gid})["order"]["fulfillmentOrders"]["nodes"][0]

    # when: prepared for pickup, then cancelled with restock
    prepared = admin.data(
        "prepared_for_pickup", {"input": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}}
    )
    status = admin.data("order", {"id": order_gid})["order"]["displayFulfillmentStatus"]
    cancelled = admin.data("order_cancel", {"orderId": order_gid, "reason": "CUSTOMER", "restock": True,
                                            "refundMethod": {"originalPaymentMethodsRefund": True},
                                            "notifyCustomer": False, "staffNote": "rupture"})  # fmt: skip
    again = admin.data("order_cancel", {"orderId": order_gid, "reason": "CUSTOMER", "restock": True})

    # then
    assert fo["deliveryMethod"]["methodType"] == "PICK_UP"
    assert prepared["fulfillmentOrderLineItemsPreparedForPickup"]["userErrors"] == []
    assert status == "READY_FOR_PICKUP"
    assert cancelled["orderCancel"]["orderCancelUserErrors"] == []
    assert shopify_sim.available("BOL-1", location="Boutique Paris") == 2
    assert again["orderCancel"]["orderCancelUserErrors"][0]["code"] == "INVALID"
    assert shopify_sim.webhooks_wait()
    assert "orders/cancelled" in hooks.topics()


def test_webhook_subscriptions_receive_their_topic_only(shopify_sim, admin) -> None:
    # given: a subscription to orders/create only
    receiver = HookReceiver()
    try:
        made = admin.data("webhook_subscription_create", {"topic": "ORDERS_CREATE",
                          "webhookSubscription": {"uri": receiver.url, "format": "JSON"}})  # fmt: skip

        # when
        shopify_sim.checkout([{"sku": "BOL-1", "quantity": 1}])
        assert shopify_sim.webhooks_wait()

        # then
        assert made["webhookSubscriptionCreate"]["userErrors"] == []
        assert receiver.topics() == ["orders/create"]
    finally:
        receiver.close()


def test_a_refund_with_restock_cancel_lowers_the_line_and_its_fulfillment_order(shopify_sim, hooks, admin) -> None:
    # given: an unfulfilled order of 3 bols
    shopify_sim.set_available("BOL-1", 5)
    order_gid = shopify_sim.checkout([{"sku": "BOL-1", "quantity": 3}])["admin_graphql_api_id"]
    line = admin.data("order", {"id": order_gid})["order"]["lineItems"]["nodes"][0]

    # when: 2 of them refunded with restock type CANCEL, then the last one
    first = admin.data("refund_create", {"input": {"orderId": order_gid, "refundLineItems": [
        {"lineItemId": line["id"], "quantity": 2, "restockType": "CANCEL"}]}})["refundCreate"]  # fmt: skip
    after_first = admin.data("order", {"id": order_gid})["order"]
    fo_first = admin.data("fulfillment_orders", {"id": order_gid})["order"]["fulfillmentOrders"]["nodes"][0]
    admin.data("refund_create", {"input": {"orderId": order_gid, "refundLineItems": [
        {"lineItemId": line["id"], "quantity": 1, "restockType": "CANCEL"}]}})  # fmt: skip
    fo_last = admin.data("fulfillment_orders", {"id": order_gid})["order"]["fulfillmentOrders"]["nodes"][0]

    # then: the line's current quantity and its fulfillment order's remaining drop by 2, the units
    # are available again; after the last, the fulfillment order is closed with nothing to fulfil
    assert first["userErrors"] == []
    assert after_first["lineItems"]["nodes"][0]["currentQuantity"] == 1
    assert [(i["totalQuantity"], i["remainingQuantity"]) for i in fo_first["lineItems"]["nodes"]] == [(3, 1)]
    assert fo_first["status"] == "OPEN"
    assert fo_last["status"] == "CLOSED"
    assert fo_last["lineItems"]["nodes"][0]["remainingQuantity"] == 0
    assert shopify_sim.available("BOL-1") == 5


def test_one_fulfillment_takes_fulfillment_orders_of_one_location_only(shopify_sim, hooks, admin) -> None:
    # given: an order routed to two locations (a fulfillment order at each)
    south = shopify_sim.location_add("Entrepôt Sud", fulfills_online_orders=True)
    shopify_sim.set_available("PULL-M", 2, south["id"])
    order_gid = shopify_sim.checkout([{"sku": "BOL-1", "quantity": 1},
                                      {"sku": "PULL-M", "quantity": 1, "location": south["id"]}])["admin_graphql_api_id"]  # fmt: skip
    fos = admin.data("fulfillment_orders", {"id": order_gid})["order"]["fulfillmentOrders"]["nodes"]

    # when: one fulfillment of both, then one of the south's alone
    both = admin.data("fulfillment_create", {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo["id"]} for fo in fos]}})["fulfillmentCreate"]  # fmt: skip
    south_only = admin.data("fulfillment_create", {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fos[1]["id"]}]}})["fulfillmentCreate"]  # fmt: skip

    # then: each line at its location; both at once refused naming the second; the south's alone done
    assert [(fo["assignedLocation"]["name"], [i["sku"] for i in fo["lineItems"]["nodes"]]) for fo in fos] == [
        ("Entrepôt", ["BOL-1"]), ("Entrepôt Sud", ["PULL-M"])]  # fmt: skip
    assert both["fulfillment"] is None
    assert both["userErrors"][0]["field"] == ["fulfillment", "lineItemsByFulfillmentOrder", "1"]
    assert south_only["userErrors"] == []
    assert shopify_sim.available("PULL-M", south["id"]) == 1
    assert shopify_sim.available("PULL-M") == 3
