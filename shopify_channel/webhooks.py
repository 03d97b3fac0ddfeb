"""The webhook topics the Shopify channel takes, registered with the connector's intake at start-up."""

from __future__ import annotations

from typing import Any

from shopify_channel.catalogue import shopify_product_updated


def products_update(payload: dict[str, Any], meta: Any) -> None:
    """``products/update``: Shopify's fields into our content; our fields changed there put back."""
    shopify_product_updated(
        payload, triggered_at=getattr(meta, "triggered_at", None), now=getattr(meta, "received_at", None)
    )


def catalogue_stock_webhooks_register() -> None:
    from integration.shopify.webhooks import webhook_topic_register

    webhook_topic_register("products/update", products_update)
