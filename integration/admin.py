"""Admin for operations: exchange file runs and alerts. Read-only views; actions call services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from integration.models import Alert, FileRun
from integration.services import alert_resolve
from integration.simulator.admin import register_simulator_admin


@admin.register(FileRun)
class FileRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "direction", "kind", "record_count", "taken_at", "started_at", "duration", "outcome"]
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
