"""Admin for business staff: web orders, read-only (the storefront and the AS400 own them).

- Orders are found by web order number, AS400 order number, customer name or status, filtered by
  status, delivery and "needs attention" (refused by the AS400, or with a dead outbox message).
- An order's page shows its lines, its whole history and its outbox messages inline, and the
  customer's fields as given next to what the ORDIMP file carries (``order_as_sent``).
- Nothing here changes an order: a dead message is retried or cancelled from *Outbox messages*
  (:mod:`integration.outbox_services`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from integration.codec import EncodeError
from integration.models import OutboxMessage
from orders.models import Order, OrderEvent, OrderLine
from orders.services import FREE_TEXT, order_as_sent


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = (
        "line_number",
        "product",
        "location",
        "quantity",
        "unit_price",
        "acked_at",
        "in_flight",
    )


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = "history"
    fields = readonly_fields = ("at", "line", "status_from", "status_to", "cause")
    ordering = ["at", "id"]


class OutboxMessageInline(ReadOnlyInline):
    model = OutboxMessage
    fk_name = "order"
    verbose_name_plural = "outbox messages (retry or cancel them from Outbox messages)"
    fields = readonly_fields = (
        "message",
        "state",
        "attempts",
        "last_error",
        "outbound_file",
        "sent_at",
        "acked_at",
    )

    @admin.display(description="message")
    def message(self, obj: OutboxMessage) -> str:
        url = reverse("admin:integration_outboxmessage_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj)


def _dead_message() -> Exists:
    return Exists(OutboxMessage.objects.filter(order=OuterRef("pk"), state=OutboxMessage.State.DEAD))


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Orders someone must look at: refused by the AS400 (with its reason), or stuck with a dead message."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("any", "Needs attention (refused or dead message)"),
            ("refused", "Refused by the AS400"),
            ("dead", "With a dead outbox message"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        refused = Q(status=Order.Status.REFUSED)
        dead = Q(pk__in=OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).values("order_id"))
        if self.value() == "any":
            return queryset.filter(refused | dead)
        if self.value() == "refused":
            return queryset.filter(refused)
        if self.value() == "dead":
            return queryset.filter(dead)
        return queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "order_number",
        "as400_order_number",
        "customer",
        "status",
        "delivery",
        "pickup_location",
        "total",
        "created_at",
        "attention",
    ]
    list_filter = [NeedsAttentionFilter, "status", "delivery"]
    search_fields = ["=order_number", "=as400_order_number", "last_name", "first_name", "=status"]
    date_hierarchy = "created_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "order_number",
                    "as400_order_number",
                    "status",
                    "refusal_reason",
                    "client",
                    "delivery",
                    "pickup_location",
                    "reservation",
                    "total",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        ("Customer", {"fields": ["customer_as_sent", "country"]}),
        ("Record", {"fields": ["idempotency_key", "content_hash"], "classes": ["collapse"]}),
    ]
    readonly_fields = [*(f.name for f in Order._meta.fields), "customer_as_sent"]
    inlines = [OrderLineInline, OrderEventInline, OutboxMessageInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).annotate(has_dead_message=_dead_message())

    @admin.display(description="customer", ordering="last_name")
    def customer(self, obj: Order) -> str:
        return f"{obj.last_name} {obj.first_name}".strip()

    @admin.display(description="needs attention")
    def attention(self, obj: Any) -> str:
        reasons = []
        if obj.status == Order.Status.REFUSED:
            reasons.append(f"refused: {obj.refusal_reason or 'no reason given'}")
        if getattr(obj, "has_dead_message", False):
            reasons.append("dead outbox message")
        return "; ".join(reasons)

    @admin.display(description="as given / as sent to the AS400")
    def customer_as_sent(self, obj: Order) -> str:
        """Each free-text field as the storefront gave it and as ORDIMP carries it (folded, cut)."""
        try:
            sent = order_as_sent(obj)
        except EncodeError as exc:  # the page must still open for an order the codec would refuse now
            return f"cannot be encoded for the AS400: {exc}"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    name.replace("_", " "),
                    getattr(obj, name),
                    sent[name],
                    "" if sent[name] == getattr(obj, name) else "≠",
                )
                for name in FREE_TEXT
            ),
        )
        return format_html(
            "<table><thead><tr><th></th><th>as given</th><th>as sent ({})</th><th></th></tr></thead>"
            "<tbody>{}</tbody></table>",
            "ORDIMP",
            rows,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come from the storefronts

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
