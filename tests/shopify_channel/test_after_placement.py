"""After a Shopify order is placed: staff's two decisions on an oversold one, Shopify's
cancellations and refunds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from integration.models import OutboxMessage
from integration.shopify.models import ShopifyCall
from inventory.models import StockLevel
from orders.attention import Reason, attention_orders
from orders.models import Order
from returns.models import Return
from shopify_channel.cancellations import shopify_order_cancelled, shopify_refund_apply
from shopify_channel.models import ShopifyOrder
from shopify_channel.orders import shopify_order_apply
from shopify_channel.oversold import OversoldError, oversold_cancel_in_shopify, oversold_send_anyway
from tests.factories.returns import ship
from tests.factories.shopify import order_payload, refund_payload, shopify_shop

NOW = timezone.now().replace(microsecond=0)
pytestmark = [pytest.mark.clock(NOW)]


@pytest.fixture
def shop(db: None) -> object:
    return shopify_shop()


def level(sku: str) -> StockLevel:
    return StockLevel.objects.get(product__mapping__sku=sku, location_id=900)


def oversold_order() -> ShopifyOrder:
    StockLevel.objects.filter(product__mapping__sku="A").update(on_hand=1)
    link = shopify_order_apply(order_payload(lines=[("A", 3)], updated_at=NOW), now=NOW)
    assert link.oversold
    return link


def staff() -> object:
    return get_user_model().objects.create_user(username="camille", password="x", is_staff=True)


def test_cancel_in_shopify_cancels_here_and_queues_the_call_with_restock_and_refund(shop: object) -> None:
    link = oversold_order()

    call = oversold_cancel_in_shopify(link=link, user=staff(), note="plus de stock", now=NOW)

    link.refresh_from_db()
    assert link.order.status == Order.Status.CANCELLED
    assert (link.oversold_resolution, link.resolved_by) == ("cancelled_in_shopify", "camille")
    assert (call.kind, call.subject, call.state) == ("order_cancel", "SH1001", ShopifyCall.State.PENDING)
    assert call.payload["orderId"] == "gid://shopify/Order/5678901234001"
    assert call.payload["restock"] is True
    assert call.payload["refundMethod"] == {"originalPaymentMethodsRefund": True}
    assert not attention_orders(reason=Reason.SHOPIFY_OVERSOLD).exists()
    assert any("camille" in e.cause and "plus de stock" in e.cause for e in link.order.events.all())
    assert level("A").in_flight == 0
    with pytest.raises(OversoldError, match="a déjà été décidée"):
        oversold_send_anyway(link=link, user=None, note="oups", now=NOW)


def test_send_anyway_forces_the_units_in_flight_and_queues_the_ordimp(shop: object) -> None:
    link = oversold_order()

    oversold_send_anyway(link=link, user=staff(), note="arrivage demain", now=NOW)

    link.refresh_from_db()
    assert link.oversold_resolution == "sent_anyway"
    assert [line.in_flight for line in link.order.lines.all()] == [3]
    assert level("A").in_flight == 3  # more than the 1 on hand: the AS400 decides
    assert OutboxMessage.objects.filter(subject=link.order.pk, kind="ORDIMP").count() == 1
    assert not attention_orders(reason=Reason.SHOPIFY_OVERSOLD).exists()
    assert any("sent anyway by camille: arrivage demain" in e.cause for e in link.order.events.all())


def test_a_note_is_required_for_a_decision(shop: object) -> None:
    link = oversold_order()

    with pytest.raises(OversoldError, match="note"):
        oversold_send_anyway(link=link, user=None, note="  ", now=NOW)


def test_orders_cancelled_cancels_the_whole_order_and_releases_its_units(shop: object) -> None:
    shopify_order_apply(order_payload(lines=[("A", 3)], updated_at=NOW), now=NOW)
    payload = order_payload(lines=[("A", 3)], updated_at=NOW + timedelta(hours=1))
    payload.update(cancelled_at=payload["updated_at"], cancel_reason="customer")

    link = shopify_order_cancelled(payload, now=NOW + timedelta(hours=1))
    shopify_order_cancelled(payload, now=NOW + timedelta(hours=2))  # delivered twice

    link.order.refresh_from_db()
    assert link.order.status == Order.Status.CANCELLED
    assert level("A").in_flight == 0
    assert OutboxMessage.objects.get(subject=link.order.pk, kind="ORDIMP").state == OutboxMessage.State.CANCELLED
    assert link.order.cancellations.count() == 1


def test_a_refund_with_restock_of_shipped_units_is_a_web_return_and_of_open_units_a_cancellation(
    shop: object,
) -> None:
    payload = order_payload(lines=[("A", 3)], updated_at=NOW)
    link = shopify_order_apply(payload, now=NOW)
    ship(link.order, 1, 2)  # two of the three units left the warehouse
    item = payload["line_items"][0]["id"]

    outcome = shopify_refund_apply(refund_payload(payload, [(item, 3, "return")]), now=NOW)
    again = shopify_refund_apply(refund_payload(payload, [(item, 3, "return")]), now=NOW)

    assert (outcome.returned, outcome.cancelled) == ([(1, 2)], [(1, 1)])
    assert not again.applied
    ret = Return.objects.get(order=link.order)
    assert [(line.order_line.line_number, line.quantity) for line in ret.lines.all()] == [(1, 2)]
    assert OutboxMessage.objects.filter(subject=link.order.pk, kind="RTNIMP").count() == 1
    assert link.order.cancellations.get().quantity == 1


def test_a_refund_without_restock_changes_nothing_here(shop: object) -> None:
    payload = order_payload(lines=[("A", 3)], updated_at=NOW)
    link = shopify_order_apply(payload, now=NOW)

    outcome = shopify_refund_apply(
        refund_payload(payload, [(payload["line_items"][0]["id"], 1, "no_restock")]), now=NOW
    )

    assert (outcome.returned, outcome.cancelled) == ([], [])
    assert not Return.objects.exists()
    assert not link.order.cancellations.exists()
