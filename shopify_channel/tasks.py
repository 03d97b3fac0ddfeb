"""django-q2 entry points of the Shopify channel. Tasks call services and hold no logic."""

from __future__ import annotations

from integration.core.locks import one_at_a_time


@one_at_a_time("Shopify stock push")
def shopify_stock_push() -> dict[str, object]:
    """Push the dirty stock pairs (the every-minute sweep)."""
    return shopify_stock_push_doorbell()


def shopify_stock_push_doorbell() -> dict[str, object]:
    """Push the dirty stock pairs now (queued after every move; the pairs are leased)."""
    from django.conf import settings

    if not settings.SHOPIFY_SHOP:
        return {"skipped": "no SHOPIFY_SHOP"}
    from shopify_channel.stock import stock_push

    return stock_push().as_dict()


@one_at_a_time("Shopify catalogue push")
def shopify_catalogue_push() -> dict[str, object]:
    """Push the catalogue's changes (every few minutes; also queued after an ownership violation)."""
    from django.conf import settings

    if not settings.SHOPIFY_SHOP:
        return {"skipped": "no SHOPIFY_SHOP"}
    from shopify_channel.catalogue import catalogue_push

    report = catalogue_push()
    fields = ("created", "updated", "unpublished", "failed", "calls", "bulk", "bulk_running", "adopted")
    return {k: getattr(report, k) for k in fields}


@one_at_a_time("Shopify orders poll")
def shopify_orders_poll() -> dict[str, object]:
    """Apply the orders Shopify updated since the cursor (what webhooks missed; every few minutes)."""
    from django.conf import settings
    from django.utils import timezone

    if not settings.SHOPIFY_SHOP:
        return {"skipped": "no SHOPIFY_SHOP"}
    from shopify_channel.poll import shopify_orders_poll as poll

    return poll(now=timezone.now()).as_dict()


@one_at_a_time("Shopify subscriptions check")
def shopify_subscriptions_ensure() -> dict[str, object]:
    """The webhook subscriptions checked and the missing ones (re-)created (every hour; also at start)."""
    from django.utils import timezone

    from shopify_channel.poll import shopify_subscriptions_ensure as ensure

    return ensure(now=timezone.now()).as_dict()
