"""Admin for operations: exchange file runs and alerts (read-only views; actions call services),
the storefront clients of the REST API, the outbox (messages, our IN/ files) and its health page,
the storefront events and their webhook deliveries (read-only; replayed by an action)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_q.admin import resubmit_task
from django_q.models import Failure, Schedule, Success

from integration.alerts import alert_resolve
from integration.as400.exchange import Location, SentState, get_exchange_folder
from integration.as400.files import PairName
from integration.as400.simulator.admin import register_simulator_admin
from integration.core.admin_formats import as400_time
from integration.core.admin_pages import ReadOnlyInline, ReadOnlyModelAdmin
from integration.core.stored_texts import stored_text_translated
from integration.models import (
    Alert,
    FileRun,
    OutboundFile,
    StorefrontClient,
    StorefrontEvent,
    WebhookAttempt,
    WebhookDelivery,
    file_runs_quiet,
)
from integration.monitoring.health_admin import register_health_admin
from integration.storefront.clients import (
    storefront_client_create,
    storefront_client_deactivate,
    storefront_client_rotate,
    storefront_client_update,
    storefront_client_webhook_secret_rotate,
    storefront_client_webhook_set,
    webhook_url_clean,
)
from integration.storefront.webhooks import webhook_replay

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices


class QuietRunFilter(admin.SimpleListFilter):
    """Quiet runs (:func:`~integration.models.file_runs_quiet`) are folded away unless asked for."""

    title = _("quiet runs (empty STKBAL deltas)")
    parameter_name = "quiet"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("shown", gettext("Shown with the others")), ("only", gettext("Only the quiet runs"))]

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        """The default (no parameter) is "folded away", not Django's "All"."""
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": gettext("Folded away"),
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[FileRun]) -> QuerySet[FileRun]:
        if self.value() == "shown":
            return queryset
        if self.value() == "only":
            return queryset.filter(file_runs_quiet())
        return queryset.exclude(file_runs_quiet())


@admin.register(FileRun)
class FileRunAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "kind",
        "record_count",
        "taken_at_as400",
        "started_at",
        "outcome",
    ]  # at 1400 px, beside the filters: the direction is the file's (and a filter), the duration on the run's page
    list_filter = [QuietRunFilter, "outcome", "direction", "file", "kind"]
    search_fields = ["file", "checksum", "error"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in FileRun._meta.fields]

    @admin.display(description=_("taken at (AS400 clock)"), ordering="taken_at")
    def taken_at_as400(self, obj: FileRun) -> str:
        return as400_time(obj.taken_at)

    @admin.display(description=_("duration (s)"))
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
    # The message is stored in English: shown in the reader's language where its template is declared.
    fields = readonly_fields = tuple(f.name if f.name != "message" else "message_shown" for f in Alert._meta.fields)
    actions = ["resolve"]

    @admin.display(description=_("message"))
    def message_shown(self, obj: Alert) -> str:
        return stored_text_translated(obj.message)

    @admin.action(description=_("Mark the selected alerts resolved"), permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        for alert in queryset.filter(resolved_at__isnull=True):
            alert_resolve(alert=alert, user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# The AS400 simulator's page: a custom staff-only view (no model), see integration/as400/simulator/admin.py.
register_simulator_admin(admin.site)


# --- Storefront clients of the REST API ------------------------------------------------------


class StorefrontClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=StorefrontClient.Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    webhook_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text=StorefrontClient._meta.get_field("webhook_url").help_text,
    )
    webhook_events = forms.MultipleChoiceField(
        choices=StorefrontEvent.Type.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Event types its webhooks carry; none ticked: all of them."),
    )

    class Meta:
        model = StorefrontClient
        fields = ["name", "scopes", "can_see_pilot", "rate_limit", "active", "webhook_url", "webhook_events"]

    def clean_webhook_url(self) -> str:
        try:
            return webhook_url_clean(self.cleaned_data.get("webhook_url") or "")
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["webhook_url"]) from None


@admin.register(StorefrontClient)
class StorefrontClientAdmin(admin.ModelAdmin):
    """Create a client and see its token once; never the hash. Rotation and deactivation are actions."""

    form = StorefrontClientForm
    list_display = [
        "name", "token", "scope_list", "can_see_pilot", "rate_limit", "active", "webhook_url", "last_used_at"
    ]  # fmt: skip
    list_filter = ["active", "can_see_pilot"]
    search_fields = ["name", "token_prefix"]
    readonly_fields = ["token", "webhook_secret_state", "created_at", "token_rotated_at", "last_used_at"]
    actions = ["rotate_tokens", "rotate_webhook_secrets", "deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: StorefrontClient | None = None) -> bool:
        # The name holds the client's reservations and Idempotency-Keys: deleting the client would
        # free the name for a new client that would then see them. Deactivate instead.
        return False

    @admin.display(description=_("token"))
    def token(self, obj: StorefrontClient) -> str:
        return f"{obj.token_prefix}…" if obj.token_prefix else ""

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: StorefrontClient) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description=_("webhook secret"))
    def webhook_secret_state(self, obj: StorefrontClient) -> str:
        # Never the secret itself: it was shown once, when generated or rotated.
        if not obj.webhook_secret:
            return gettext("none (one is generated when a webhook URL is set)")
        return gettext("set (shown once; rotate it with the action to get a new one)")

    def get_readonly_fields(self, request: HttpRequest, obj: StorefrontClient | None = None) -> list[str]:
        # The name holds the client's reservations: it does not change once created.
        return [*self.readonly_fields, "name"] if obj is not None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: StorefrontClient | None = None) -> Any:
        if obj is None:
            return ["name", "scopes", "can_see_pilot", "rate_limit", "webhook_url", "webhook_events"]
        return ["name", "token", "scopes", "can_see_pilot", "rate_limit", "active", "webhook_url",
                "webhook_events", "webhook_secret_state", "created_at", "token_rotated_at",
                "last_used_at"]  # fmt: skip

    def save_model(
        self, request: HttpRequest, obj: StorefrontClient, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            # The form set obj's fields already; the service validates and saves what it names.
            active = obj.active if "active" in form.changed_data else None
            if active is not None:
                obj.active = not active  # so that the service sees the change it makes
            storefront_client_update(
                client=obj, scopes=obj.scopes, can_see_pilot=obj.can_see_pilot, rate_limit=obj.rate_limit,
                active=active,
            )
            if {"webhook_url", "webhook_events"} & set(form.changed_data):
                self._set_webhook(request, obj)
            return
        client, token = storefront_client_create(
            name=obj.name, scopes=obj.scopes, can_see_pilot=obj.can_see_pilot, rate_limit=obj.rate_limit
        )
        obj.pk, obj.token_prefix, obj.created_at = client.pk, client.token_prefix, client.created_at
        obj._state.adding = False
        self._show_token(request, client, token)
        if obj.webhook_url or obj.webhook_events:
            client.webhook_url, client.webhook_events = obj.webhook_url, obj.webhook_events
            self._set_webhook(request, client)
            obj.webhook_secret = client.webhook_secret

    def _set_webhook(self, request: HttpRequest, client: StorefrontClient) -> None:
        client, secret = storefront_client_webhook_set(
            client=client, url=client.webhook_url, events=client.webhook_events
        )
        if secret is not None:
            self._show_webhook_secret(request, client, secret)

    def _show_webhook_secret(self, request: HttpRequest, client: StorefrontClient, secret: str) -> None:
        messages.warning(
            request,
            gettext(
                "Webhook secret of {client}, shown this once (give it to the storefront's developers; "
                "it verifies the Webhook-Signature of every webhook): {secret}"
            ).format(client=client.name, secret=secret),
        )

    def _show_token(self, request: HttpRequest, client: StorefrontClient, token: str) -> None:
        messages.warning(
            request,
            gettext("Token of {client}, shown this once (copy it now; only its hash is kept): {token}").format(
                client=client.name, token=token
            ),
        )

    @admin.action(
        description=_("Rotate the token of the selected clients (the old ones stop at once)"),
        permissions=["change"],
    )
    def rotate_tokens(self, request: HttpRequest, queryset: QuerySet[StorefrontClient]) -> None:
        for client in queryset:
            client, token = storefront_client_rotate(client=client)
            self._show_token(request, client, token)

    @admin.action(
        description=_("Rotate the webhook secret of the selected clients (the old ones stop at once)"),
        permissions=["change"],
    )
    def rotate_webhook_secrets(self, request: HttpRequest, queryset: QuerySet[StorefrontClient]) -> None:
        for client in queryset:
            client, secret = storefront_client_webhook_secret_rotate(client=client)
            self._show_webhook_secret(request, client, secret)

    @admin.action(description=_("Deactivate the selected clients"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[StorefrontClient]) -> None:
        for client in queryset.filter(active=True):
            storefront_client_deactivate(client=client)


# --- The outbox: messages to the AS400 and the files that carried them ------------------------


_WHERE = {
    Location.IN: _("IN/ (waiting for the AS400)"),
    Location.IN_DONE: _("IN/DONE/ (read)"),
    Location.IN_ERR: _("IN/ERR/ (refused)"),
}


@admin.register(OutboundFile)
class OutboundFileAdmin(ReadOnlyModelAdmin):
    """Our IN/ pairs, and where the AS400 put them (read from the exchange folder once per page)."""

    list_display = ["__str__", "state", "records", "probe", "created_at", "written_at", "message_count"]
    list_filter = ["state", "file", "probe"]
    search_fields = ["file", "=seq", "sha256"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboundFile._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboundFile]:
        return super().get_queryset(request).annotate(message_total=Count("messages"))

    @admin.display(description=_("messages"), ordering="message_total")
    def message_count(self, obj: Any) -> str:
        url = reverse("admin:integration_outboxmessage_changelist") + f"?outbound_file__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.message_total)

    def _where(self) -> Callable[[OutboundFile], str]:
        """A column telling where each file is, from one reading of the folder (per page)."""
        try:
            state: SentState | None = get_exchange_folder().sent_state()
            unavailable = ""
        except OSError as exc:
            state, unavailable = None, gettext("exchange folder unavailable: {exc}").format(exc=exc)

        @admin.display(description=gettext("where"))
        def where(obj: OutboundFile) -> str:
            if obj.state != OutboundFile.State.WRITTEN:
                return "-"
            if state is None:
                return unavailable
            location = state.where(PairName(obj.file, obj.seq))
            return str(_WHERE.get(location, gettext("not found whole"))) if location else gettext("not found whole")

        return where

    def get_list_display(self, request: HttpRequest) -> Any:
        return [*self.list_display[:3], self._where(), *self.list_display[3:]]

    def get_readonly_fields(self, request: HttpRequest, obj: OutboundFile | None = None) -> Any:
        return [*self.readonly_fields, self._where()]


# Monitoring: the outbox's health page, a custom staff-only view (see integration/monitoring/health_admin.py).
register_health_admin(admin.site)


# --- Storefront events and their webhook deliveries --------------------------------------------


class WebhookDeliveryInline(ReadOnlyInline):
    model = WebhookDelivery
    show_change_link = True
    verbose_name_plural = _("webhook deliveries (replay them from Webhook deliveries)")
    fields = readonly_fields = (
        "client", "url", "state", "attempts", "last_status", "last_error", "next_attempt_at", "delivered_at",
    )  # fmt: skip


@admin.register(StorefrontEvent)
class StorefrontEventAdmin(ReadOnlyModelAdmin):
    """What each storefront was told (or can poll) about its orders; the payload exactly as sent."""

    list_display = ["created_at", "type", "order_number", "rma", "client", "event_id"]
    list_filter = ["type", "client"]
    search_fields = ["=order_number", "=rma"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in StorefrontEvent._meta.fields]
    inlines = [WebhookDeliveryInline]


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    verbose_name_plural = _("attempts (newest first)")
    fields = readonly_fields = ("at", "status_code", "error", "duration_ms", "response_excerpt")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyModelAdmin):
    """Read-only: one event to one client's endpoint and its attempts; "replay" sends it again."""

    list_display = [
        "id", "event_type", "order", "client", "state", "attempts", "last_status", "error",
        "next_attempt_at", "delivered_at",
    ]  # fmt: skip
    list_filter = ["state", "client"]
    search_fields = ["=event__order_number", "url", "last_error"]
    list_select_related = ["event", "client"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        url = reverse("admin:integration_storefrontevent_change", args=[obj.event_id])
        return format_html('<a href="{}">{}</a>', url, obj.event.type)

    @admin.display(description=_("order"), ordering="event__order_number")
    def order(self, obj: WebhookDelivery) -> str:
        return obj.event.order_number

    @admin.display(description=_("last error"))
    def error(self, obj: WebhookDelivery) -> str:
        return obj.last_error if len(obj.last_error) <= 120 else obj.last_error[:119] + "…"

    def has_act_permission(self, request: HttpRequest) -> bool:
        """Replay: for those allowed to change deliveries (the form itself stays read-only)."""
        return request.user.has_perm("integration.change_webhookdelivery")

    @admin.action(
        description=_("Replay the selected deliveries (send again now, same event id)"), permissions=["act"]
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset.select_related("event", "client").order_by("id"):
            webhook_replay(delivery=delivery)
            messages.success(
                request,
                gettext("Delivery #{delivery_pk} ({event_type} of {order_number} to {client}) is pending again and goes out within seconds.").format(delivery_pk=delivery.pk, event_type=delivery.event.type, order_number=delivery.event.order_number, client=delivery.client),
            )


# --- django-q2's task admins -------------------------------------------------------------------
# Its "resubmit" action puts tasks back in the queue, and declares no permission: anyone who may
# view tasks could run them again. The same action here, for those allowed to change them.


# Its label as django-q2 marks it (lazy: in the reader's language, not the one active at import).
@admin.action(description=resubmit_task.short_description, permissions=["change"])  # type: ignore[attr-defined]
def resubmit_tasks(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> None:  # type: ignore[type-arg]
    resubmit_task(model_admin, request, queryset)


for _task_model in (Success, Failure):
    if admin.site.is_registered(_task_model):
        admin.site._registry[_task_model].actions = [resubmit_tasks]

# Its schedules' list, cut to fit 1400 px beside the filters: the cluster and the repeats left on
# each schedule's page.
if admin.site.is_registered(Schedule):
    admin.site._registry[Schedule].list_display = (
        "id", "name", "func", "schedule_type", "next_run", "get_last_run", "get_success",
    )  # fmt: skip
