"""Shopify orders become platform orders: once, never backwards, at what was paid, from the one pool."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integration.models import OutboxMessage
from inventory.models import StockLevel
from orders.attention import Reason, attention_orders
from orders.models import Order
from shopify_channel.models import ShopifyOrder
from shopify_channel.orders import (
    ShopifyPayloadError,
    paid_unit_prices,
    shopify_order_apply,
    shopify_order_number,
)
from tests.factories.shopify import PARIS_GID, order_payload, shopify_shop

NOW = timezone.now().replace(microsecond=0)
pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def shop(db: None) -> object:
    return shopify_shop()


def level(sku: str, location: int = 900) -> StockLevel:
    return StockLevel.objects.get(product__mapping__sku=sku, location_id=location)


def test_a_create_delivered_twice_makes_one_order_with_its_units_in_flight(shop: object) -> None:
    payload = order_payload(lines=[("A", 3)], updated_at=NOW)

    first = shopify_order_apply(payload, now=NOW)
    second = shopify_order_apply(payload, now=NOW + timedelta(seconds=5))

    assert first.pk == second.pk
    order = Order.objects.get()
    assert (order.order_number, order.client, order.delivery, order.status) == (
        "SH1001",
        "shopify",
        "home",
        "placed",
    )
    assert [(line.quantity, line.in_flight, line.location_id) for line in order.lines.all()] == [(3, 3, 900)]
    assert level("A").in_flight == 3
    assert OutboxMessage.objects.filter(order=order, kind="ORDIMP").count() == 1
    assert not first.oversold


def test_paid_before_create_creates_it_and_the_late_create_changes_nothing(shop: object) -> None:
    paid = order_payload(financial_status="paid", updated_at=NOW + timedelta(minutes=1))
    create = order_payload(financial_status="pending", updated_at=NOW)

    shopify_order_apply(paid, now=NOW)
    link = shopify_order_apply(create, now=NOW + timedelta(minutes=2))

    assert Order.objects.count() == 1
    assert (link.financial_status, link.shopify_updated_at) == ("paid", NOW + timedelta(minutes=1))
    assert level("A").in_flight == 3


def test_an_update_older_than_the_last_applied_is_not_applied_backwards(shop: object) -> None:
    shopify_order_apply(order_payload(updated_at=NOW), now=NOW)
    shopify_order_apply(
        order_payload(financial_status="refunded", updated_at=NOW + timedelta(minutes=9)), now=NOW
    )

    shopify_order_apply(
        order_payload(financial_status="paid", updated_at=NOW + timedelta(minutes=3)), now=NOW
    )

    link = ShopifyOrder.objects.get()
    assert (link.financial_status, link.shopify_updated_at) == ("refunded", NOW + timedelta(minutes=9))


def test_the_order_number_comes_from_shopifys_name_within_the_as400s_alphabet() -> None:
    assert shopify_order_number("#1001", 5) == "SH1001"
    assert shopify_order_number("#EU-1001/é", 5) == "SHEU1001"
    assert shopify_order_number("#" + "9" * 30, 5678901234001) == "SH5678901234001"


def test_discounts_are_spread_per_unit_to_the_cent_and_the_remainder_cents_go_to_the_first_units() -> None:
    assert paid_unit_prices(Decimal("10.00"), 3, Decimal("3.00")) == [(Decimal("9.00"), 3)]
    assert paid_unit_prices(Decimal("10.00"), 3, Decimal("0.50")) == [
        (Decimal("9.84"), 1),
        (Decimal("9.83"), 2),
    ]


def test_lines_are_at_what_the_customer_paid_and_shipping_is_kept(shop: object) -> None:
    payload = order_payload(lines=[("A", 3, "10.00", "0.50"), ("B", 1, "4.50", "0.00")], shipping="4.90",
                            shipping_discount="1.00", updated_at=NOW)  # fmt: skip

    link = shopify_order_apply(payload, now=NOW)

    order = link.order
    assert [(line.line_number, line.quantity, line.unit_price) for line in order.lines.order_by("line_number")] == [
        (1, 1, Decimal("9.84")), (2, 2, Decimal("9.83")), (3, 1, Decimal("4.50")),
    ]  # fmt: skip
    assert order.total == Decimal("29.50") + Decimal("4.50")
    assert (link.shipping_amount, link.discounts, link.total) == (
        Decimal("3.90"),
        Decimal("0.50"),
        Decimal("37.90"),
    )
    assert level("A").in_flight == 3


def test_a_pickup_order_is_click_and_collect_at_our_store_of_that_location(shop: object) -> None:
    payload = order_payload(
        lines=[("C", 2)], pickup_location_id=int(PARIS_GID.rsplit("/", 1)[1]), updated_at=NOW
    )

    order = shopify_order_apply(payload, now=NOW).order

    assert (order.delivery, order.pickup_location_id) == ("click_and_collect", 1)
    assert [line.location_id for line in order.lines.all()] == [1]
    assert (level("C", 1).in_flight, level("C", 900).in_flight) == (2, 0)


def test_a_short_pool_keeps_the_order_without_units_or_ordimp_and_flags_it_oversold(shop: object) -> None:
    StockLevel.objects.filter(product__mapping__sku="A").update(on_hand=2)

    link = shopify_order_apply(order_payload(lines=[("A", 3), ("B", 1)], updated_at=NOW), now=NOW)

    assert link.oversold
    assert "A" in link.oversold_reason
    assert [line.in_flight for line in link.order.lines.all()] == [0, 0]
    assert (level("A").in_flight, level("B").in_flight) == (0, 0)
    assert not OutboxMessage.objects.filter(order=link.order).exists()
    assert list(attention_orders(reason=Reason.SHOPIFY_OVERSOLD)) == [link.order]


def test_a_malformed_payload_is_refused_naming_the_field_and_nothing_is_kept(shop: object) -> None:
    payload = order_payload(updated_at=NOW)
    payload["line_items"][0]["quantity"] = "three"

    with pytest.raises(ShopifyPayloadError, match=r"line_items\[0\]\.quantity"):
        shopify_order_apply(payload, now=NOW)

    assert not Order.objects.exists()
    assert not ShopifyOrder.objects.exists()


def test_an_unknown_sku_is_refused_and_nothing_is_kept(shop: object) -> None:
    with pytest.raises(ShopifyPayloadError, match="ZZZ"):
        shopify_order_apply(order_payload(lines=[("A", 1), ("ZZZ", 1)], updated_at=NOW), now=NOW)

    assert not Order.objects.exists()
    assert level("A").in_flight == 0
