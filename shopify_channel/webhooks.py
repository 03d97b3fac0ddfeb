"""The Shopify topics this app takes from the connector's inbox (``integration.shopify.webhooks``).

Each handler runs in the event's transaction with the event's receipt time as ``now``: what it
raises fails the event (kept with its error, retried by the sweep, replayable by staff).
"""

from __future__ import annotations

from typing import Any

from integration.shopify.webhooks import WebhookMeta, webhook_topic_register
from shopify_channel.cancellations import shopify_order_cancelled, shopify_refund_apply
from shopify_channel.catalogue import shopify_product_updated
from shopify_channel.orders import shopify_order_apply

ORDER_TOPICS = ("orders/create", "orders/paid", "orders/updated")


def _order(payload: dict[str, Any], meta: WebhookMeta) -> None:
    shopify_order_apply(payload, now=meta.received_at)


def _cancelled(payload: dict[str, Any], meta: WebhookMeta) -> None:
    shopify_order_cancelled(payload, now=meta.received_at)


def _refund(payload: dict[str, Any], meta: WebhookMeta) -> None:
    shopify_refund_apply(payload, now=meta.received_at)


def _product(payload: dict[str, Any], meta: WebhookMeta) -> None:
    """``products/update``: Shopify's fields into our content; our fields changed there put back."""
    shopify_product_updated(payload, triggered_at=meta.triggered_at, now=meta.received_at)


def register() -> None:
    for topic in ORDER_TOPICS:
        webhook_topic_register(topic, _order)
    webhook_topic_register("orders/cancelled", _cancelled)
    webhook_topic_register("refunds/create", _refund)
    webhook_topic_register("products/update", _product)
