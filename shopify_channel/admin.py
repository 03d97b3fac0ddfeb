"""The Shopify page's catalogue and stock rows: sync state per product, ownership violations, stock levels."""

from __future__ import annotations

from django.contrib import admin

from integration.core.admin_pages import ReadOnlyModelAdmin
from shopify_channel.models import OwnershipViolation, ShopifyProduct, ShopifyStockLevel, StockDirty


@admin.register(ShopifyProduct)
class ShopifyProductAdmin(ReadOnlyModelAdmin):
    list_display = ["product", "state", "shopify_product_id", "last_pushed_at", "last_error"]
    list_filter = ["state"]
    search_fields = ["product__item_number", "product__mapping__sku", "shopify_product_id"]
    list_select_related = ["product"]


@admin.register(OwnershipViolation)
class OwnershipViolationAdmin(ReadOnlyModelAdmin):
    list_display = ["product", "field", "shopify_value", "our_value", "seen_at", "fixed_at"]
    list_filter = ["field", ("fixed_at", admin.EmptyFieldListFilter)]
    search_fields = ["product__item_number"]
    list_select_related = ["product"]


@admin.register(ShopifyStockLevel)
class ShopifyStockLevelAdmin(ReadOnlyModelAdmin):
    list_display = [
        "product",
        "location",
        "shopify_available",
        "unseen_sales",
        "last_pushed_at",
        "cause",
        "last_error",
    ]
    list_filter = ["location"]
    search_fields = ["product__item_number", "cause"]
    list_select_related = ["product", "location"]


@admin.register(StockDirty)
class StockDirtyAdmin(ReadOnlyModelAdmin):
    list_display = ["product_id", "location_code", "cause", "marked_at"]
    search_fields = ["cause"]
