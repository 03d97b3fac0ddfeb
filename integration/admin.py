"""Admin for operations: exchange file runs and alerts (read-only views; actions call services),
the storefront clients of the REST API, the outbox (messages, our IN/ files) and its health page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from integration.exchange import Location, SentState, get_exchange_folder
from integration.files import PairName
from integration.health_admin import register_health_admin
from integration.models import Alert, FileRun, OutboundFile, OutboxMessage, StorefrontClient
from integration.outbox_services import OutboxActionRefused, outbox_message_cancel, outbox_message_retry
from integration.services import alert_resolve
from integration.simulator.admin import register_simulator_admin
from integration.storefront import (
    storefront_client_create,
    storefront_client_deactivate,
    storefront_client_rotate,
    storefront_client_update,
)


@admin.register(FileRun)
class FileRunAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "direction",
        "kind",
        "record_count",
        "taken_at",
        "started_at",
        "duration",
        "outcome",
    ]
    list_filter = ["outcome", "direction", "file", "kind"]
    search_fields = ["file", "checksum", "error"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in FileRun._meta.fields]

    @admin.display(description="duration (s)")
    def duration(self, obj: FileRun) -> str:
        seconds = obj.duration_seconds
        return "" if seconds is None else f"{seconds:.2f}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["kind", "subject", "severity", "occurrences", "last_seen_at", "resolved_at"]
    list_filter = ["severity", "kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["kind", "subject", "message"]
    readonly_fields = [f.name for f in Alert._meta.fields]
    actions = ["resolve"]

    @admin.action(description="Mark the selected alerts resolved")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        for alert in queryset.filter(resolved_at__isnull=True):
            alert_resolve(alert=alert, user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# The AS400 simulator's page: a custom staff-only view (no model), see integration/simulator/admin.py.
register_simulator_admin(admin.site)


# --- Storefront clients of the REST API ------------------------------------------------------


class StorefrontClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=StorefrontClient.Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = StorefrontClient
        fields = ["name", "scopes", "can_see_pilot", "rate_limit", "active"]


@admin.register(StorefrontClient)
class StorefrontClientAdmin(admin.ModelAdmin):
    """Create a client and see its token once; never the hash. Rotation and deactivation are actions."""

    form = StorefrontClientForm
    list_display = ["name", "token", "scope_list", "can_see_pilot", "rate_limit", "active", "last_used_at"]
    list_filter = ["active", "can_see_pilot"]
    search_fields = ["name", "token_prefix"]
    readonly_fields = ["token", "created_at", "token_rotated_at", "last_used_at"]
    actions = ["rotate_tokens", "deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: StorefrontClient | None = None) -> bool:
        # The name holds the client's reservations and Idempotency-Keys: deleting the client would
        # free the name for a new client that would then see them. Deactivate instead.
        return False

    @admin.display(description="token")
    def token(self, obj: StorefrontClient) -> str:
        return f"{obj.token_prefix}…" if obj.token_prefix else ""

    @admin.display(description="scopes")
    def scope_list(self, obj: StorefrontClient) -> str:
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request: HttpRequest, obj: StorefrontClient | None = None) -> list[str]:
        # The name holds the client's reservations: it does not change once created.
        return [*self.readonly_fields, "name"] if obj is not None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: StorefrontClient | None = None) -> Any:
        if obj is None:
            return ["name", "scopes", "can_see_pilot", "rate_limit"]
        return ["name", "token", "scopes", "can_see_pilot", "rate_limit", "active", "created_at",
                "token_rotated_at", "last_used_at"]  # fmt: skip

    def save_model(
        self, request: HttpRequest, obj: StorefrontClient, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            storefront_client_update(
                client=obj, scopes=obj.scopes, can_see_pilot=obj.can_see_pilot, rate_limit=obj.rate_limit
            )
            if "active" in form.changed_data:
                obj.save(update_fields=["active"])
            return
        client, token = storefront_client_create(
            name=obj.name, scopes=obj.scopes, can_see_pilot=obj.can_see_pilot, rate_limit=obj.rate_limit
        )
        obj.pk, obj.token_prefix, obj.created_at = client.pk, client.token_prefix, client.created_at
        obj._state.adding = False
        self._show_token(request, client, token)

    def _show_token(self, request: HttpRequest, client: StorefrontClient, token: str) -> None:
        messages.warning(
            request,
            f"Token of {client.name}, shown this once (copy it now; only its hash is kept): {token}",
        )

    @admin.action(description="Rotate the token of the selected clients (the old ones stop at once)")
    def rotate_tokens(self, request: HttpRequest, queryset: QuerySet[StorefrontClient]) -> None:
        for client in queryset:
            client, token = storefront_client_rotate(client=client)
            self._show_token(request, client, token)

    @admin.action(description="Deactivate the selected clients")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[StorefrontClient]) -> None:
        for client in queryset.filter(active=True):
            storefront_client_deactivate(client=client)


# --- The outbox: messages to the AS400 and the files that carried them ------------------------


class CancelMessageForm(forms.Form):
    note = forms.CharField(
        max_length=150, required=False, label="Note", help_text="Why, for the order's history."
    )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only; a dead message is retried, a dead or pending one that never left is cancelled
    (:mod:`integration.outbox_services` decides what is allowed)."""

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

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


_WHERE = {
    Location.IN: "IN/ (waiting for the AS400)",
    Location.IN_DONE: "IN/DONE/ (read)",
    Location.IN_ERR: "IN/ERR/ (refused)",
}


@admin.register(OutboundFile)
class OutboundFileAdmin(admin.ModelAdmin):
    """Our IN/ pairs, and where the AS400 put them (read from the exchange folder once per page)."""

    list_display = ["__str__", "state", "records", "probe", "created_at", "written_at", "message_count"]
    list_filter = ["state", "file", "probe"]
    search_fields = ["file", "=seq", "sha256"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboundFile._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboundFile]:
        return super().get_queryset(request).annotate(message_total=Count("messages"))

    @admin.display(description="messages", ordering="message_total")
    def message_count(self, obj: Any) -> str:
        url = reverse("admin:integration_outboxmessage_changelist") + f"?outbound_file__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.message_total)

    def _where(self) -> Callable[[OutboundFile], str]:
        """A column telling where each file is, from one reading of the folder (per page)."""
        try:
            state: SentState | None = get_exchange_folder().sent_state()
            unavailable = ""
        except OSError as exc:
            state, unavailable = None, f"exchange folder unavailable: {exc}"

        @admin.display(description="where")
        def where(obj: OutboundFile) -> str:
            if obj.state != OutboundFile.State.WRITTEN:
                return "-"
            if state is None:
                return unavailable
            location = state.where(PairName(obj.file, obj.seq))
            return _WHERE.get(location, "not found whole") if location else "not found whole"

        return where

    def get_list_display(self, request: HttpRequest) -> Any:
        return [*self.list_display[:3], self._where(), *self.list_display[3:]]

    def get_readonly_fields(self, request: HttpRequest, obj: OutboundFile | None = None) -> Any:
        return [*self.readonly_fields, self._where()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# Monitoring: the outbox's health page, a custom staff-only view (see integration/health_admin.py).
register_health_admin(admin.site)
