"""Shopify's side in the admin, in French: its orders (the oversold ones and staff's two decisions),
its locations, and a Shopify order's link on the order's page; the catalogue's sync state per
product, ownership violations and the stock levels pushed (read-only).

- **Commandes Shopify**: each Shopify order with its name, shipping, discounts and whether it was
  oversold; « Annuler dans Shopify… » and « Envoyer quand même… » decide an oversold order
  (:mod:`shopify_channel.oversold`), each with a note kept in the order's history.
- **Emplacements Shopify**: which of our locations is which Shopify location, and where customers
  pick up.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from integration.core.admin_pages import ReadOnlyInline, ReadOnlyModelAdmin
from orders.admin import NoteForm, note_action, order_inline_register
from orders.attention import AttentionError, AttentionErrorCode
from shopify_channel.models import (
    OwnershipViolation,
    ShopifyLocation,
    ShopifyOrder,
    ShopifyProduct,
    ShopifyStockLevel,
    StockDirty,
)
from shopify_channel.oversold import OversoldError, oversold_cancel_in_shopify, oversold_send_anyway

FIELDS = (
    "name", "shopify_id", "financial_status", "total", "discounts", "shipping_title", "shipping_amount",
    "oversold", "oversold_reason", "oversold_resolution", "resolved_at", "resolved_by", "cancelled_at",
    "shopify_updated_at",
)  # fmt: skip


class ShopifyOrderInline(ReadOnlyInline):
    """A Shopify order's link on the order's page (:func:`orders.admin.order_inline_register`)."""

    model = ShopifyOrder
    verbose_name = verbose_name_plural = "commande Shopify (livraison, remises, survente)"
    fields = readonly_fields = FIELDS


order_inline_register(ShopifyOrderInline)


def _refused(exc: OversoldError) -> AttentionError:
    return AttentionError(str(exc), code=AttentionErrorCode.NOTHING_TO_RESOLVE)


@admin.register(ShopifyOrder)
class ShopifyOrderAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "order", "financial_status", "total", "shipping_amount", "oversold",
                    "oversold_resolution", "created_at"]  # fmt: skip
    list_filter = ["oversold", "oversold_resolution", "financial_status"]
    search_fields = ["=name", "=order__order_number", "=shopify_id"]
    fields = readonly_fields = ("order", *FIELDS, "line_numbers", "created_at", "updated_at")
    actions = ["cancel_in_shopify", "send_anyway"]

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_order")

    @admin.action(description="Annuler dans Shopify…", permissions=["act"])
    def cancel_in_shopify(
        self, request: HttpRequest, queryset: QuerySet[ShopifyOrder]
    ) -> HttpResponse | None:
        def apply(link: ShopifyOrder, data: dict[str, Any]) -> str:
            try:
                oversold_cancel_in_shopify(
                    link=link, user=request.user, note=data["note"], now=timezone.now()
                )
            except OversoldError as exc:
                raise _refused(exc) from exc
            return (
                f"{link.name} : annulée ici, annulation demandée à Shopify (remise en stock, remboursement)."
            )

        return note_action(
            self, request, queryset, action="cancel_in_shopify", title="Annuler dans Shopify",
            intro="Chaque commande survendue est annulée ici (elle n'est pas partie pour l'AS400) et son "
            "annulation est demandée à Shopify : remise en stock, remboursement, client prévenu. Votre note "
            "est gardée dans l'historique de la commande avec votre nom.",
            rows=lambda link: [(str(link), link.oversold_reason or "non survendue")],
            submit="Annuler dans Shopify", apply=apply, form_class=NoteForm,
        )  # fmt: skip

    @admin.action(description="Envoyer quand même…", permissions=["act"])
    def send_anyway(self, request: HttpRequest, queryset: QuerySet[ShopifyOrder]) -> HttpResponse | None:
        def apply(link: ShopifyOrder, data: dict[str, Any]) -> str:
            try:
                oversold_send_anyway(link=link, user=request.user, note=data["note"], now=timezone.now())
            except OversoldError as exc:
                raise _refused(exc) from exc
            return f"{link.name} : envoyée à l'AS400 quand même (ORDIMP en file)."

        return note_action(
            self, request, queryset, action="send_anyway", title="Envoyer quand même",
            intro="Les unités de chaque commande survendue sont comptées en cours d'envoi, même au-delà du "
            "disponible, et son ORDIMP part : l'AS400 dira ce qu'il peut expédier. Votre note est gardée "
            "dans l'historique de la commande avec votre nom.",
            rows=lambda link: [(str(link), link.oversold_reason or "non survendue")],
            submit="Envoyer quand même", apply=apply, form_class=NoteForm,
        )  # fmt: skip


@admin.register(ShopifyLocation)
class ShopifyLocationAdmin(admin.ModelAdmin):
    list_display = ["location", "shopify_location_id", "pickup"]
    list_filter = ["pickup"]


# --- Catalogue and stock (shopify_channel.catalogue, shopify_channel.stock) ---------------------


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
