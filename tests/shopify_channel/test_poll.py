"""What webhooks miss: the poll of orders updated since its cursor, and the subscriptions checked at start.

Against the Shopify simulator (its checkout, its Admin API's ``orders(query: "updated_at:>…")``)
and the platform's own order path (``shopify_order_apply``, the outbox to the AS400).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_q.models import Schedule
from pytest_django import Settings

from integration.as400.simulator.engine import Simulator
from integration.shopify.webhooks import webhook_topics
from orders.models import Order
from shopify_channel.models import PollCursor, ShopifyOrder
from shopify_channel.poll import shopify_orders_poll, shopify_subscriptions_ensure, topic_enum
from tests.factories.orders import warehouse_items
from tests.moments import TUESDAY
from tests.shopify_channel.flow import ShopifySide, as400_minute, deliver_webhooks, shopify_order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock(TUESDAY)]


def webord(sim: Simulator) -> list[str]:
    return [str(w).strip() for (w,) in sim.sql("SELECT WOWEBN FROM WEBORD")]


def test_a_checkout_whose_webhooks_never_come_is_created_by_the_poll_once_and_goes_to_the_as400(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given a Shopify checkout whose webhooks are never delivered
    (product,) = warehouse_items(1)
    shopify_side.sim.fault_webhooks("never", count=10)
    placed = shopify_side.checkout(product, 2)
    assert deliver_webhooks(shopify_side) == 0
    assert not ShopifyOrder.objects.exists()

    # when the poll runs, twice
    first = shopify_orders_poll(now=TUESDAY)
    second = shopify_orders_poll(now=TUESDAY + timedelta(minutes=5))

    # then the order exists once, its lines at what the customer paid, and goes to the AS400 once
    link = shopify_order(placed)
    assert (first.applied, second.applied, second.unchanged) == (1, 0, 1)
    assert link.order.client == "shopify"
    (line,) = link.order.lines.all()
    assert (line.product_id, line.quantity) == (product.pk, 2)
    as400_minute(simulator)
    as400_minute(simulator)
    assert webord(simulator).count(link.order.order_number) == 1
    cursor = PollCursor.objects.get()
    assert cursor.updated_at is not None
    assert cursor.last_seen >= 1


def test_a_poll_after_the_webhook_changes_nothing(simulator: Simulator, shopify_side: ShopifySide) -> None:
    # given a checkout its webhooks brought
    (product,) = warehouse_items(1)
    placed = shopify_side.checkout(product, 1)
    deliver_webhooks(shopify_side)
    link = shopify_order(placed)
    before = (link.shopify_updated_at, link.order.status, link.order.lines.get().quantity)

    # when the poll reads it again
    report = shopify_orders_poll(now=TUESDAY)

    # then it is a no-op: one order, unchanged
    assert (report.seen, report.applied, report.unchanged) == (1, 0, 1)
    assert Order.objects.filter(client="shopify").count() == 1
    link.refresh_from_db()
    assert (link.shopify_updated_at, link.order.status, link.order.lines.get().quantity) == before


def test_an_order_cancelled_in_shopify_whose_webhook_was_lost_is_cancelled_by_the_poll(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given an order we hold, cancelled in Shopify's admin while its webhook is lost
    (product,) = warehouse_items(1)
    placed = shopify_side.checkout(product, 1)
    deliver_webhooks(shopify_side)
    shopify_side.sim.fault_webhooks("never", count=10)
    with time_machine.travel(TUESDAY + timedelta(minutes=1), tick=False):
        shopify_side.sim.cancel_in_admin(placed["admin_graphql_api_id"])

    # when the poll runs
    shopify_orders_poll(now=TUESDAY + timedelta(minutes=2))

    # then it is cancelled here too (released: it had not left)
    assert shopify_order(placed).order.status == "cancelled"


def test_a_refund_whose_webhooks_were_lost_is_applied_by_the_poll_once(
    simulator: Simulator, shopify_side: ShopifySide
) -> None:
    # given an order of 3 we hold, 1 unit of it refunded with restock in Shopify's admin before it
    # ships (restock type CANCEL) while the refunds/create and orders/updated webhooks are lost
    (product,) = warehouse_items(1)
    placed = shopify_side.checkout(product, 3)
    deliver_webhooks(shopify_side)
    shopify_side.sim.fault_webhooks("never", count=10)
    with time_machine.travel(TUESDAY + timedelta(minutes=1), tick=False):
        shopify_side.sim.refund_in_admin(placed["admin_graphql_api_id"], [{"sku": product.mapping.sku, "quantity": 1}])

    # when the poll runs, twice
    first = shopify_orders_poll(now=TUESDAY + timedelta(minutes=2))
    second = shopify_orders_poll(now=TUESDAY + timedelta(minutes=7))

    # then the unit is cancelled here once, the refund recorded once, the second poll a no-op
    link = shopify_order(placed)
    line = link.order.lines.get()
    assert (line.quantity, line.cancelled) == (3, 1)
    assert link.refunds.count() == 1
    assert (first.applied, second.applied, second.unchanged) == (1, 0, 1)
    assert not first.failed


def test_the_subscriptions_are_recreated_when_missing_and_the_schedules_exist(
    shopify_side: ShopifySide, settings: Settings
) -> None:
    # given every topic subscribed at start (the fixture ran the check), and then one deleted at Shopify
    subs = shopify_side.client.execute("webhook_subscriptions", {"first": 100}).data
    assert subs is not None
    nodes = subs["webhookSubscriptions"]["nodes"]
    assert {n["topic"] for n in nodes} == {topic_enum(t) for t in webhook_topics()}
    orders_create = next(n for n in nodes if n["topic"] == "ORDERS_CREATE")
    shopify_side.client.execute("webhook_subscription_delete", {"id": orders_create["id"]})

    # when the check runs again (the command bin/run and the deploy run)
    call_command("shopify_subscriptions_ensure")
    report = shopify_subscriptions_ensure(now=TUESDAY)

    # then the missing one is back, and nothing else was made twice
    assert report.created == []
    assert "ORDERS_CREATE" in report.kept
    again = shopify_side.client.execute("webhook_subscriptions", {"first": 100}).data
    assert again is not None
    topics = [n["topic"] for n in again["webhookSubscriptions"]["nodes"]]
    assert sorted(topics) == sorted({topic_enum(t) for t in webhook_topics()})
    assert all(n["uri"] == settings.SHOPIFY_WEBHOOK_URL for n in again["webhookSubscriptions"]["nodes"])


@pytest.mark.django_db  # the migrations' rows: a transactional test flushes them
def test_the_poll_runs_every_five_minutes_and_the_subscriptions_are_checked_every_hour() -> None:
    schedules = {
        s.func: (s.schedule_type, s.minutes, s.repeats)
        for s in Schedule.objects.filter(func__startswith="shopify_channel.tasks.shopify_")
    }
    assert schedules["shopify_channel.tasks.shopify_orders_poll"] == ("I", 5, -1)
    assert schedules["shopify_channel.tasks.shopify_subscriptions_ensure"] == ("I", 60, -1)
