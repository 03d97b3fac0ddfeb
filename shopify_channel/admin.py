"""Shopify's side in the admin, in French: its orders (the oversold ones and staff's two decisions),
its locations, and a Shopify order's link on the order's page; the catalogue's sync state per
product, ownership violations and the stock levels pushed (read-only); and the Shopify page
("Shopify" in the admin's index): the connection (shop, API version, last call, bucket level), the
products pushed / failed / unpublished and the open ownership violations, the webhook inbox and the
calls to Shopify by state (with links to replay and retry them), the poll's cursor, and the latest
Shopify orders (the orders list's « Canal » tells Shopify's orders from the headless store's).

- **Commandes Shopify**: each Shopify order with its name, shipping, discounts and whether it was
  oversold; « Annuler dans Shopify… » and « Envoyer quand même… » decide an oversold order
  (:mod:`shopify_channel.oversold`), each with a note kept in the order's history.
- **Emplacements Shopify**: which of our locations is which Shopify location, and where customers
  pick up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.core.admin_formats import euros
from integration.core.admin_pages import ReadOnlyInline, ReadOnlyModelAdmin, note_action, register_admin_page
from integration.shopify.models import ConnectionState, ShopifyCall, WebhookEvent
from orders.admin import NoteForm, order_inline_register
from orders.models import Order
from shopify_channel.models import (
    OwnershipViolation,
    PollCursor,
    ShopifyLocation,
    ShopifyOrder,
    ShopifyProduct,
    ShopifyStockLevel,
    StockDirty,
)
from shopify_channel.oversold import OversoldError, oversold_cancel_in_shopify, oversold_send_anyway
from shopify_channel.poll import CURSOR as POLL_CURSOR

FIELDS = (
    "name", "shopify_id", "financial_status", "total", "discounts", "shipping_title", "shipping_amount",
    "oversold", "oversold_reason", "oversold_resolution", "resolved_at", "resolved_by", "cancelled_at",
    "shopify_updated_at",
)  # fmt: skip


class ShopifyOrderInline(ReadOnlyInline):
    """A Shopify order's link on the order's page (:func:`orders.admin.order_inline_register`)."""

    model = ShopifyOrder
    verbose_name = verbose_name_plural = _("Shopify order (delivery, discounts, overselling)")
    fields = readonly_fields = FIELDS


order_inline_register(ShopifyOrderInline)


@admin.register(ShopifyOrder)
class ShopifyOrderAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "order", "financial_status", "total_euros", "shipping_euros", "oversold_mark",
                    "oversold_resolution", "created_at"]  # fmt: skip
    list_filter = ["oversold", "oversold_resolution", "financial_status"]
    search_fields = ["=name", "=order__order_number", "=shopify_id"]
    fields = readonly_fields = ("order", *FIELDS, "line_numbers", "created_at", "updated_at")
    actions = ["cancel_in_shopify", "send_anyway"]

    @admin.display(description=_("total"), ordering="total")
    def total_euros(self, obj: ShopifyOrder) -> str:
        return euros(obj.total) if obj.currency == "EUR" else f"{obj.total} {obj.currency}"

    @admin.display(description=_("shipping"), ordering="shipping_amount")
    def shipping_euros(self, obj: ShopifyOrder) -> str:
        return euros(obj.shipping_amount) if obj.currency == "EUR" else f"{obj.shipping_amount} {obj.currency}"

    @admin.display(description=_("oversold"), ordering="oversold")
    def oversold_mark(self, obj: ShopifyOrder) -> str:
        """Said in words where it is bad news, nothing where it is not (no red cross for a sound order)."""
        return gettext("⚠ oversold") if obj.oversold else ""

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_order")

    @admin.action(description=_("Cancel in Shopify…"), permissions=["act"])
    def cancel_in_shopify(self, request: HttpRequest, queryset: QuerySet[ShopifyOrder]) -> HttpResponse | None:
        def apply(link: ShopifyOrder, data: dict[str, Any]) -> str:
            oversold_cancel_in_shopify(link=link, user=request.user, note=data["note"], now=timezone.now())
            return gettext("{link_name}: cancelled here, cancellation asked of Shopify (restock, refund).").format(link_name=link.name)

        return note_action(
            self, request, queryset, action="cancel_in_shopify", title=gettext("Cancel in Shopify"),
            intro=gettext("Each oversold order is cancelled here (it has not left for the AS400) and its cancellation is asked of Shopify: restock, refund, customer notified. Your note is kept in the order's history with your name."),
            rows=lambda link: [(str(link), link.oversold_reason or gettext("not oversold"))],
            submit=gettext("Cancel in Shopify"), apply=apply, form_class=NoteForm, refused=(OversoldError,),
        )  # fmt: skip

    @admin.action(description=_("Send anyway…"), permissions=["act"])
    def send_anyway(self, request: HttpRequest, queryset: QuerySet[ShopifyOrder]) -> HttpResponse | None:
        def apply(link: ShopifyOrder, data: dict[str, Any]) -> str:
            oversold_send_anyway(link=link, user=request.user, note=data["note"], now=timezone.now())
            return gettext("{link_name}: sent to the AS400 anyway (ORDIMP queued).").format(link_name=link.name)

        return note_action(
            self, request, queryset, action="send_anyway", title=gettext("Send anyway"),
            intro=gettext("The units of each oversold order are counted as in flight, even beyond what is available, and its ORDIMP goes out: the AS400 will say what it can ship. Your note is kept in the order's history with your name."),
            rows=lambda link: [(str(link), link.oversold_reason or gettext("not oversold"))],
            submit=gettext("Send anyway"), apply=apply, form_class=NoteForm, refused=(OversoldError,),
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


#: Orders whose life at the AS400 is over (the page counts the others as open).
CLOSED_STATUSES = [
    Order.Status.REFUSED, Order.Status.SHIPPED, Order.Status.RETURNED, Order.Status.CANCELLED,
    Order.Status.PARTIALLY_RETURNED,
]  # fmt: skip
RECENT = 10


# --- The Shopify page: the connection, the catalogue's sync, the inbox, the calls, the orders -------------

PAGE_URL_NAME = "shopify_overview"
PAGE_TEMPLATE = "admin/shopify_channel/overview.html"
PAGE_TITLE = "Shopify"
PAGE_PERMISSION = "shopify_channel.view_shopifyproduct"


def _url(site: admin.AdminSite, name: str, query: str = "") -> str:
    """The admin URL named ``name`` (with ``query``), or "" while that admin is not there."""
    try:
        return reverse(f"{site.name}:{name}") + query
    except NoReverseMatch:
        return ""


def _counts(rows: Any, field: str) -> dict[str, int]:
    return {row[field]: row["n"] for row in rows.values(field).annotate(n=Count("pk")).order_by()}


def overview_page(site: admin.AdminSite) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        shop = settings.SHOPIFY_SHOP
        state = ConnectionState.objects.filter(shop=shop).first() if shop else None
        products = _counts(ShopifyProduct.objects.all(), "state")
        events = _counts(WebhookEvent.objects.all(), "state")
        calls = _counts(ShopifyCall.objects.all(), "state")
        client = settings.SHOPIFY_CLIENT_NAME
        orders = Order.objects.filter(client=client)
        cursor = PollCursor.objects.filter(name=POLL_CURSOR).first()
        context: dict[str, Any] = {
            **site.each_context(request),
            "title": PAGE_TITLE,
            "shop": shop,
            "api_version": (
                state.api_version if state and state.api_version else settings.SHOPIFY_API_VERSION
            ),
            "state": state,
            "bucket_percent": (
                round(100 * state.bucket_available / state.bucket_maximum)
                if state and state.bucket_available is not None and state.bucket_maximum
                else None
            ),
            "products": [
                (
                    label,
                    products.get(value, 0),
                    _url(site, "shopify_channel_shopifyproduct_changelist", f"?state__exact={value}"),
                )
                for value, label in ShopifyProduct.State.choices
            ],
            "violations_open": OwnershipViolation.objects.filter(fixed_at__isnull=True).count(),
            "violations_url": _url(
                site, "shopify_channel_ownershipviolation_changelist", "?fixed_at__isempty=1"
            ),
            "events": [(label, events.get(value, 0)) for value, label in WebhookEvent.State.choices],
            "events_url": _url(site, "shopify_webhookevent_changelist"),
            "events_failed_url": _url(site, "shopify_webhookevent_changelist", "?state__exact=failed"),
            "calls": [(label, calls.get(value, 0)) for value, label in ShopifyCall.State.choices],
            "calls_url": _url(site, "shopify_shopifycall_changelist"),
            "calls_dead_url": _url(site, "shopify_shopifycall_changelist", "?state__exact=dead"),
            "orders_count": orders.count(),
            "orders_open": orders.exclude(status__in=CLOSED_STATUSES).count(),
            "oversold": ShopifyOrder.objects.filter(oversold=True, oversold_resolution="").count(),
            "orders_url": _url(site, "orders_order_changelist", f"?client__exact={client}"),
            "attention_url": _url(site, "orders_order_changelist", "?attention=any"),
            "cursor": cursor,
            "webhook_url": settings.SHOPIFY_WEBHOOK_URL,
            "recent_orders": [
                (link, reverse(f"{site.name}:orders_order_change", args=[link.order_id]))
                for link in ShopifyOrder.objects.select_related("order").order_by("-created_at")[:RECENT]
            ],
        }
        return TemplateResponse(request, PAGE_TEMPLATE, context)

    return view


def register_shopify_admin(site: admin.AdminSite) -> None:
    """The Shopify page in ``site``'s index, for those who may view the Shopify products."""
    register_admin_page(
        site, route="shopify/", url_name=PAGE_URL_NAME, title=PAGE_TITLE, object_name="ShopifyOverview",
        view=overview_page(site), permission=PAGE_PERMISSION,
    )  # fmt: skip


register_shopify_admin(admin.site)
