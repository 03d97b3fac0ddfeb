"""Admin for operations: exchange file runs and alerts (read-only views; actions call services),
and the storefront clients of the REST API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from integration.models import Alert, FileRun, StorefrontClient
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
