"""django-q2 entry points of the Shopify channel. Tasks call services and hold no logic."""

from __future__ import annotations


def shopify_stock_push() -> dict[str, object]:
    """Push the dirty stock pairs (queued after every move; also the every-minute sweep)."""
    from django.conf import settings

    if not settings.SHOPIFY_SHOP:
        return {"skipped": "no SHOPIFY_SHOP"}
    from shopify_channel.stock import stock_push

    return stock_push().as_dict()


def shopify_catalogue_push() -> dict[str, object]:
    """Push the catalogue's changes (every few minutes; also queued after an ownership violation)."""
    from django.conf import settings

    if not settings.SHOPIFY_SHOP:
        return {"skipped": "no SHOPIFY_SHOP"}
    from shopify_channel.catalogue import catalogue_push

    report = catalogue_push()
    return {k: getattr(report, k) for k in ("created", "updated", "unpublished", "failed", "calls", "bulk")}
