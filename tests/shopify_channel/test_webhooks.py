"""Shopify's order webhooks through the real endpoint and the connector's inbox, applied by the
handlers shopify_channel registers at start-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

from integration.shopify.models import WebhookEvent
from integration.shopify.webhooks import webhook_event_apply, webhook_topics
from orders.models import Order
from shopify_channel.models import ShopifyOrder
from tests.factories.shopify import order_payload, shopify_shop
from tests.factories.shopify_connector import CLIENT_ID, CLIENT_SECRET, SHOP, deliver

NOW = timezone.now().replace(microsecond=0)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]


@pytest.fixture(autouse=True)
def shopify_settings(settings: Settings) -> None:
    settings.SHOPIFY_SHOP, settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET = (
        SHOP,
        CLIENT_ID,
        CLIENT_SECRET,
    )


def apply_all() -> list[str]:
    return [
        webhook_event_apply(event_id=pk)
        for pk in WebhookEvent.objects.order_by("pk").values_list("pk", flat=True)
    ]


def test_the_order_topics_are_registered_from_the_app() -> None:
    assert {"orders/create", "orders/paid", "orders/updated", "orders/cancelled", "refunds/create"} <= set(
        webhook_topics()
    )


def test_create_delivered_twice_and_paid_delivered_first_make_one_order(client: Client) -> None:
    # given the shop, and Shopify's paid event arriving before its create, then the create twice
    shopify_shop()
    deliver(
        client,
        "orders/paid",
        "evt-paid",
        order_payload(financial_status="paid", updated_at=NOW + timedelta(seconds=30)),
    )
    deliver(client, "orders/create", "evt-create", order_payload(updated_at=NOW))
    deliver(client, "orders/create", "evt-create", order_payload(updated_at=NOW))

    # when the inbox applies what it stored
    states = apply_all()

    # then one order exists, as of the newest payload
    assert states == ["applied", "applied"]
    assert Order.objects.count() == 1
    assert ShopifyOrder.objects.get().financial_status == "paid"


def test_a_malformed_order_leaves_the_event_failed_naming_the_field(client: Client) -> None:
    shopify_shop()
    payload: dict[str, Any] = order_payload(updated_at=NOW)
    del payload["line_items"]
    deliver(client, "orders/create", "evt-bad", payload)

    assert apply_all() == ["failed"]

    event = WebhookEvent.objects.get()
    assert "line_items" in event.last_error
    assert not Order.objects.exists()
