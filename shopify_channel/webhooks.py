"""The webhook topics the Shopify channel takes, registered with the connector's intake at start-up."""

from __future__ import annotations

from typing import Any

from integration.shopify.webhooks import WebhookMeta, webhook_topic_register
from shopify_channel.catalogue import shopify_product_updated


def products_update(payload: dict[str, Any], meta: WebhookMeta) -> None:
    """``products/update``: Shopify's fields into our content; our fields changed there put back."""
    shopify_product_updated(payload, triggered_at=meta.triggered_at)


def catalogue_webhooks_register() -> None:
    webhook_topic_register("products/update", products_update)
