"""Availability moves the Shopify stock push listens to: ``inventory.moves``, safety stock writes and
the selling switch.

Safety stock is written by the admin, the reference imports and ``category_details_update``, all
through the models' ``save``/``delete``: the signals see every one without inventory knowing us.
The selling switch (``inventory.rollout.selling_pause`` / ``selling_resume``) saves its row the same
way: a pause makes every pair's figure for Shopify 0 (``platform_available``), a resume gives it
back, so either marks every published pair dirty in the switch's transaction and Shopify is told.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from inventory.models import Category, SafetyStockOverride, SellingSwitch
from inventory.moves import availability_listener_register, cause_uri
from shopify_channel.stock import stock_mark_all, stock_mark_dirty


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


def _switch_saved(sender: Any, instance: SellingSwitch, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if created or fields is None or "selling_enabled" in fields:
        state = "on" if instance.selling_enabled else "paused"
        stock_mark_all(cause=cause_uri("SellingSwitch", f"{instance.pk}-{state}"), now=instance.updated_at)


def _location_mapped(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A Shopify location newly mapped (a pickup store opened to Shopify): every published product
    is to be pushed there; the push stocks each item at it first (``inventoryActivate``)."""
    from shopify_channel.models import ShopifyProduct

    if not created:
        return
    products = ShopifyProduct.objects.filter(state=ShopifyProduct.State.PUSHED).values_list("product_id", flat=True)
    stock_mark_dirty([(p, instance.location_id) for p in products], cause_uri("ShopifyLocation", instance.pk))


def stock_listeners_register() -> None:
    from shopify_channel.models import ShopifyLocation

    availability_listener_register(_availability_moved)
    post_save.connect(
        _override_changed, sender=SafetyStockOverride, dispatch_uid="shopify_safety_override_saved"
    )
    post_delete.connect(
        _override_changed, sender=SafetyStockOverride, dispatch_uid="shopify_safety_override_deleted"
    )
    post_save.connect(_category_saved, sender=Category, dispatch_uid="shopify_category_saved")
    post_save.connect(_switch_saved, sender=SellingSwitch, dispatch_uid="shopify_selling_switch_saved")
    post_save.connect(_location_mapped, sender=ShopifyLocation, dispatch_uid="shopify_location_mapped")
