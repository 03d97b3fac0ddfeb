"""The admin's Shopify page and the orders list's channel, as staff see them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

from integration.shopify.models import ConnectionState, ShopifyCall
from shopify_channel.orders import shopify_order_apply
from tests.factories.shopify import order_payload, shopify_shop

NOW = timezone.now().replace(microsecond=0)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("chef", "chef@example.fr", "x"))
    return client


def test_the_shopify_page_shows_the_connection_the_calls_and_the_shopify_orders(
    staff: Client, settings: Settings
) -> None:
    # given a shop called once, a dead call, and a Shopify order
    settings.SHOPIFY_SHOP = "maison.myshopify.com"
    shopify_shop()
    ConnectionState.objects.create(
        shop="maison.myshopify.com", api_version="2026-10", last_call_at=NOW, bucket_available=1500.0,
        bucket_maximum=2000.0, restore_rate=100.0,
    )  # fmt: skip
    link = shopify_order_apply(order_payload(name="#1042", lines=[("A", 1)], updated_at=NOW), now=NOW)
    ShopifyCall.objects.create(
        kind="fulfillment_create", subject=link.order.order_number, payload={}, idempotency_key="k-1",
        state="dead", next_attempt_at=NOW, created_at=NOW, last_error="boom",
    )  # fmt: skip

    # when staff open the page
    page = staff.get("/admin/shopify/")

    # then they read, in French, the shop, its API version and its bucket, the calls and the order
    assert page.status_code == 200
    text = page.content.decode()
    expected = ["Connexion", "maison.myshopify.com", "2026-10", "1500 / 2000 points (75 %)", "Abandonné : 1",
                "Commandes Shopify", "#1042", link.order.order_number]  # fmt: skip
    assert [e for e in expected if e not in text] == []
    assert "/admin/shopify/shopifycall/?state__exact=dead" in text


def test_the_orders_list_shows_and_filters_the_channel(staff: Client) -> None:
    # given a Shopify order and a headless one
    shop = shopify_shop()
    link = shopify_order_apply(order_payload(name="#1043", lines=[("A", 1)], updated_at=NOW), now=NOW)
    headless = shop.order("WEB-HEADLESS-1", {"B": 1})

    # when staff list the orders, then filter on the Shopify channel
    everything = staff.get("/admin/orders/order/").content.decode()
    shopify_only = staff.get("/admin/orders/order/?channel=shopify").content.decode()
    headless_only = staff.get("/admin/orders/order/?channel=headless").content.decode()

    # then the column says which channel each came from, and the filter keeps one channel
    assert "Canal" in everything
    assert "Shopify" in everything
    assert "Headless" in everything
    assert link.order.order_number in shopify_only
    assert headless.order_number not in shopify_only
    assert headless.order_number in headless_only
    assert link.order.order_number not in headless_only
