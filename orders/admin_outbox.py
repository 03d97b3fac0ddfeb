"""The outbox's messages in the admin: every message is an order's (its ``subject`` is the order's
id), and what staff may do to one (retry a dead one, cancel one that never left) is an order's rule
(:mod:`orders.outbox_actions`)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.core.admin_pages import ReadOnlyModelAdmin
from integration.models import OutboxMessage
from orders.models import Order
from orders.outbox_actions import OutboxActionRefused, outbox_message_cancel, outbox_message_retry
from orders.selectors import messages_with_order


class CancelMessageForm(forms.Form):
    note = forms.CharField(
        max_length=150, required=False, label=_("Note"), help_text=_("Why, for the order's history.")
    )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyModelAdmin):
    """Read-only; a dead message is retried, a dead or pending one that never left is cancelled
    (:mod:`orders.outbox_actions` decides what is allowed)."""

    list_display = [
        "id",
        "kind",
        "order_link",
        "state",
        "attempts",
        "next_attempt_at",
        "error",
        "outbound_file",
        "sent_at",
    ]  # at 1400 px, beside the filters; acked_at and created_at are on the message's page
    list_filter = ["state", "kind"]
    search_fields = ["last_error"]  # and the order's number, ours or the AS400's: get_search_results
    list_select_related = ["outbound_file"]
    readonly_fields = ["order_link", *(f.name for f in OutboxMessage._meta.fields)]
    actions = ["retry", "cancel"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxMessage]:
        """Each message with its order's number and status, read in the same query."""
        return messages_with_order(super().get_queryset(request))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OutboxMessage], search_term: str
    ) -> tuple[QuerySet[OutboxMessage], bool]:
        """Each word is a part of the last error, or exactly an order's number (ours or the AS400's)."""
        for bit in smart_split(search_term):
            if bit[:1] in ("'", '"') and bit[-1:] == bit[:1]:
                bit = unescape_string_literal(bit)
            orders = Order.objects.filter(Q(order_number=bit) | Q(as400_order_number=bit)).values("pk")
            queryset = queryset.filter(Q(last_error__icontains=bit) | Q(subject__in=orders))
        return queryset, False

    @admin.display(description=_("order"), ordering="order_number")
    def order_link(self, obj: OutboxMessage) -> str:
        url = reverse("admin:orders_order_change", args=[obj.subject])
        return format_html('<a href="{}">{}</a>', url, obj.order_number)  # type: ignore[attr-defined]

    @admin.display(description=_("last error"))
    def error(self, obj: OutboxMessage) -> str:
        return obj.last_error if len(obj.last_error) <= 120 else obj.last_error[:119] + "…"

    def has_act_permission(self, request: HttpRequest) -> bool:
        """Retry and cancel: for those allowed to change messages (the form itself stays read-only)."""
        return request.user.has_perm("integration.change_outboxmessage")

    @admin.action(description=_("Retry the selected dead messages"), permissions=["act"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        for message in queryset.order_by("id"):
            try:
                outbox_message_retry(message=message, user=request.user)
            except OutboxActionRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request, gettext("{message_kind} #{message_pk} of {order_number} is pending again.").format(message_kind=message.kind, message_pk=message.pk, order_number=message.order_number)  # type: ignore[attr-defined]
                )

    @admin.action(description=_("Cancel the selected messages (never sent)…"), permissions=["act"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> HttpResponse | None:
        form = CancelMessageForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Cancel outbox messages"),
                "opts": self.opts,
                "outbox_messages": queryset.order_by("id"),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action_name": "cancel",
            }
            return TemplateResponse(request, "admin/integration/outboxmessage/cancel.html", context)
        for message in queryset.order_by("id"):
            try:
                result = outbox_message_cancel(
                    message=message, user=request.user, note=form.cleaned_data["note"]
                )
            except OutboxActionRefused as exc:
                messages.error(request, str(exc))
                continue
            done = gettext("{message_kind} #{message_pk} of {order_number} cancelled").format(
                message_kind=message.kind, message_pk=message.pk, order_number=message.order_number  # type: ignore[attr-defined]
            )
            if result.order_cancelled:
                done += gettext("; the order is cancelled and {units_released} unit(s) released").format(units_released=result.units_released)
            messages.success(request, done + ".")
        return None
