"""Admin for business staff: returns and their state, read-only.

Web returns come from the storefront, store returns from STRRTN, their receipts from ORDSTS:
nothing here edits one. An overdue web return (:func:`returns.attention.returns_overdue`) can
have its announcement sent again when the AS400 never got it
(:func:`returns.attention.return_announcement_resend`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.core.admin_formats import paris
from integration.core.admin_pages import ReadOnlyInline, ReadOnlyModelAdmin
from orders.admin import order_inline_register
from returns.attention import (
    ReturnAttentionError,
    return_announcement_resend,
    return_announcements,
    return_is_overdue,
    returns_overdue,
)
from returns.models import Return, ReturnLine


def overdue_mark(overdue: bool) -> str:
    """Overdue said in words where it is bad news; nothing where it is not (Django's boolean icons
    would show a red cross for a return that is on time)."""
    return gettext("⚠ overdue") if overdue else ""

class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = readonly_fields = ("line", "product", "quantity", "received_quantity")

    @admin.display(description=_("order line"))
    def line(self, obj: ReturnLine) -> int:
        return obj.order_line.line_number

    @admin.display(description=_("product"))
    def product(self, obj: ReturnLine) -> str:
        return str(obj.order_line.product)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReturnLine]:
        return super().get_queryset(request).select_related("order_line__product")


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", gettext("Overdue (not received in time)")), ("no", gettext("Not overdue"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Return]) -> QuerySet[Return]:
        if self.value() == "yes":
            return queryset.filter(pk__in=returns_overdue().values("pk"))
        if self.value() == "no":
            return queryset.exclude(pk__in=returns_overdue().values("pk"))
        return queryset


@admin.register(Return)
class ReturnAdmin(ReadOnlyModelAdmin):
    list_display = [
        "rma",
        "order_link",
        "source",
        "status",
        "store",
        "created_at",
        "announced_at",
        "received_at",
        "overdue",
    ]
    list_filter = ["status", "source", OverdueFilter, "store"]
    search_fields = ["=rma", "=order__order_number"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    fields = [
        "rma",
        "order_link",
        "client",
        "source",
        "status",
        "overdue",
        "reason",
        "comment",
        "store",
        "created_at",
        "announced_at",
        "received_at",
        "updated_at",
        "announcements",
    ]
    readonly_fields = [*(f.name for f in Return._meta.fields), "order_link", "overdue", "announcements"]
    inlines = [ReturnLineInline]
    actions = ["resend_announcement"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Return]:
        overdue = returns_overdue().filter(pk=OuterRef("pk"))
        return super().get_queryset(request).annotate(is_overdue=Exists(overdue))

    @admin.display(description=_("order"), ordering="order__order_number")
    def order_link(self, obj: Return) -> str:
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order)

    @admin.display(description=_("overdue"), ordering="is_overdue")
    def overdue(self, obj: Any) -> str:
        return overdue_mark(bool(getattr(obj, "is_overdue", False)))

    @admin.display(description=_("announcements to the AS400 (RTNIMP)"))
    def announcements(self, obj: Return) -> str:
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:integration_outboxmessage_change", args=[m.pk]),
                    f"{m.kind} #{m.pk}",
                    m.get_state_display(),
                    m.attempts,
                    m.outbound_file or "",
                    paris(m.sent_at, seconds=True),
                    m.last_error,
                )
                for m in return_announcements(obj).select_related("outbound_file")
            ),
        )
        if not rows:
            return gettext("none")
        heads = [
            gettext("message"), gettext("state"), gettext("attempts"), gettext("file"), gettext("sent at"),
            gettext("last error"),
        ]  # fmt: skip
        return format_html(
            "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<th>{}</th>", ((h,) for h in heads)),
            rows,
        )

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("returns.change_return") and request.user.has_perm(
            "integration.change_outboxmessage"
        )

    @admin.action(description=_("Send the announcement of the selected web returns again"), permissions=["act"])
    def resend_announcement(self, request: HttpRequest, queryset: QuerySet[Return]) -> None:
        for ret in queryset.order_by("pk"):
            try:
                message = return_announcement_resend(ret=ret, user=request.user)
            except ReturnAttentionError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, gettext("{rma}: {message_kind} #{message_pk} is pending again.").format(rma=ret.rma, message_kind=message.kind, message_pk=message.pk))


class OrderReturnInline(ReadOnlyInline):
    """An order's returns, on the order's page (:func:`orders.admin.order_inline_register`)."""

    model = Return
    verbose_name_plural = _("returns")
    fields = readonly_fields = (
        "return_link",
        "source",
        "status",
        "store",
        "created_at",
        "announced_at",
        "received_at",
        "overdue",
    )

    @admin.display(description=_("RMA"))
    def return_link(self, obj: Return) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:returns_return_change", args=[obj.pk]), obj.rma)

    @admin.display(description=_("overdue"))
    def overdue(self, obj: Return) -> str:
        return overdue_mark(return_is_overdue(obj))


order_inline_register(OrderReturnInline)
