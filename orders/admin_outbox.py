"""The outbox's messages in the admin: every message is an order's, and what staff may do to one
(retry a dead one, cancel one that never left) is an order's rule (:mod:`orders.outbox_actions`)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from integration.core.admin_pages import ReadOnlyModelAdmin
from integration.models import OutboxMessage
from orders.outbox_actions import OutboxActionRefused, outbox_message_cancel, outbox_message_retry


class CancelMessageForm(forms.Form):
    note = forms.CharField(
        max_length=150, required=False, label="Note", help_text="Why, for the order's history."
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
        "acked_at",
        "created_at",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["=order__order_number", "=order__as400_order_number", "last_error"]
    list_select_related = ["order", "outbound_file"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry", "cancel"]

    @admin.display(description="order", ordering="order__order_number")
    def order_link(self, obj: OutboxMessage) -> str:
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order)

    @admin.display(description="last error")
    def error(self, obj: OutboxMessage) -> str:
        return obj.last_error if len(obj.last_error) <= 120 else obj.last_error[:119] + "…"

    def has_act_permission(self, request: HttpRequest) -> bool:
        """Retry and cancel: for those allowed to change messages (the form itself stays read-only)."""
        return request.user.has_perm("integration.change_outboxmessage")

    @admin.action(description="Retry the selected dead messages", permissions=["act"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        for message in queryset.order_by("id"):
            try:
                outbox_message_retry(message=message, user=request.user)
            except OutboxActionRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request, f"{message.kind} #{message.pk} of {message.order} is pending again."
                )

    @admin.action(description="Cancel the selected messages (never sent)…", permissions=["act"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> HttpResponse | None:
        form = CancelMessageForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Cancel outbox messages",
                "opts": self.opts,
                "outbox_messages": queryset.select_related("order").order_by("id"),
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
            done = f"{message.kind} #{message.pk} of {message.order} cancelled"
            if result.order_cancelled:
                done += f"; the order is cancelled and {result.units_released} unit(s) released"
            messages.success(request, done + ".")
        return None
