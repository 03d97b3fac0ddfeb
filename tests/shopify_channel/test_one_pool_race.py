"""The headless store and Shopify fighting over the last units of one pool, in threads at once.

Each call runs on its own database connection (tests/races.py): on PostgreSQL the conditional
UPDATE's row lock is what keeps a unit from being promised twice; on SQLite the write lock.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from integration.models import OutboxMessage
from inventory.errors import InsufficientStock
from inventory.models import StockLevel
from inventory.reservations import LineRequest, reservation_create
from orders.models import Order, OrderLine
from orders.services import Customer, LineInput, OrderInput, order_place
from shopify_channel.models import ShopifyOrder
from shopify_channel.orders import shopify_order_apply
from tests.factories.inventory import Catalogue
from tests.factories.shopify import order_payload
from tests.races import race, raised

NOW = timezone.now().replace(microsecond=0)
UNITS = 10


def headless(i: int) -> str:
    try:
        reservation = reservation_create(lines=[LineRequest("HOT", 1)], client="web", now=NOW)
    except InsufficientStock:
        return "short"
    order_place(
        data=OrderInput(
            order_number=f"WEB-{i:06d}", reservation_id=str(reservation.pk), delivery="home",
            customer=Customer(last_name="Martin"), lines=[LineInput("HOT", 1, Decimal("9.90"))],
        ),
        client="web", now=NOW,
    )  # fmt: skip
    return "placed"


def shopify(i: int) -> str:
    link = shopify_order_apply(
        order_payload(shopify_id=5000000000000 + i, name=f"#{2000 + i}", lines=[("HOT", 1)], updated_at=NOW),
        now=NOW,
    )
    return "oversold" if link.oversold else "placed"


@pytest.mark.clock(NOW)
@pytest.mark.django_db(transaction=True)
def test_both_storefronts_racing_for_the_last_units_never_promise_one_twice_and_flag_every_excess() -> None:
    Catalogue().product("HOT", stock={900: UNITS})
    per_side = 40 if connection.vendor == "postgresql" else 10
    calls = [(headless, i) if i % 2 else (shopify, i) for i in range(2 * per_side)]

    outcomes = race(lambda fn, i: fn(i), calls)

    assert raised(outcomes) == []
    results = [(fn.__name__, o.get()) for (fn, _), o in zip(calls, outcomes, strict=True)]
    stock = StockLevel.objects.get(product__item_number="HOT", location_id=900)
    assert stock.on_hand >= stock.promised + stock.in_flight + stock.reserved
    placed = [r for r in results if r[1] == "placed"]
    assert len(placed) == UNITS == stock.in_flight  # demand was higher: every unit went, once
    assert OrderLine.objects.aggregate(units=Sum("in_flight"))["units"] == UNITS
    shopify_results = [r for side, r in results if side == "shopify"]
    assert ShopifyOrder.objects.count() == len(shopify_results) == per_side
    assert ShopifyOrder.objects.filter(oversold=True).count() == shopify_results.count("oversold")
    for link in ShopifyOrder.objects.filter(oversold=True).select_related("order"):
        assert not OutboxMessage.objects.filter(order=link.order).exists()
        assert not link.order.lines.filter(in_flight__gt=0).exists()
    headless_short = [r for side, r in results if side == "headless" and r == "short"]
    assert Order.objects.filter(client="web").count() == per_side - len(headless_short)
    assert OutboxMessage.objects.filter(kind="ORDIMP").count() == UNITS
