"""Availability moves the Shopify stock push listens to: ``inventory.moves`` and safety stock writes.

Safety stock is written by the admin, the reference imports and ``category_details_update``, all
through the models' ``save``/``delete``: the signals see every one without inventory knowing us.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from inventory.models import Category, SafetyStockOverride
from inventory.moves import availability_listener_register, cause_uri
from shopify_channel.stock import stock_mark_dirty


def _availability_moved(pairs: list[tuple[int, int]], cause: str) -> None:
    stock_mark_dirty(pairs, cause)


def _override_changed(sender: Any, instance: SafetyStockOverride, **kwargs: Any) -> None:
    from shopify_channel.models import ShopifyLocation

    codes = (
        [instance.location_id]
        if instance.location_id is not None
        else list(ShopifyLocation.objects.values_list("location_id", flat=True))
    )
    stock_mark_dirty([(instance.product_id, c) for c in codes], cause_uri("SafetyStock", instance.product_id))


def _category_saved(sender: Any, instance: Category, **kwargs: Any) -> None:
    from shopify_channel.models import ShopifyLocation, ShopifyProduct

    codes = list(ShopifyLocation.objects.values_list("location_id", flat=True))
    if not codes:
        return
    products = ShopifyProduct.objects.filter(product__category=instance).values_list("product_id", flat=True)
    stock_mark_dirty(
        [(p, c) for p in products for c in codes], cause_uri("SafetyStock", instance.family_code)
    )


def stock_listeners_register() -> None:
    availability_listener_register(_availability_moved)
    post_save.connect(
        _override_changed, sender=SafetyStockOverride, dispatch_uid="shopify_safety_override_saved"
    )
    post_delete.connect(
        _override_changed, sender=SafetyStockOverride, dispatch_uid="shopify_safety_override_deleted"
    )
    post_save.connect(_category_saved, sender=Category, dispatch_uid="shopify_category_saved")
