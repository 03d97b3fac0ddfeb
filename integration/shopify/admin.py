"""The connector's admin pages, in French, under « Shopify (connecteur) ».

- **Webhooks reçus de Shopify**: the inbox, read-only, the body as it came; « Rejouer… » applies a
  failed or ignored event again (:func:`~integration.shopify.webhooks.webhook_replay`; an applied
  one is refused).
- **Appels à Shopify**: the outgoing calls, read-only; « Relancer… » sends a dead call again,
  « Annuler… » gives up a pending or dead one (:mod:`integration.shopify.calls`).
- **État de la connexion Shopify**: the shop, the API version, the last call and error, the bucket.

The access token is not shown anywhere. Acting takes the model's ``change`` permission.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.core.admin_pages import ReadOnlyModelAdmin, note_action
from integration.core.stored_texts import stored_text_translated, stored_texts_translated
from integration.shopify.calls import CallActionRefused, shopify_call_cancel, shopify_call_retry
from integration.shopify.models import ConnectionState, ShopifyCall, WebhookEvent
from integration.shopify.webhooks import WebhookReplayRefused, webhook_replay


class ConfirmForm(forms.Form):
    """Nothing to fill: the page asks to confirm."""


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=_("Why (kept with the call)."),
    )  # fmt: skip


def confirm_action(
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    intro: str,
    rows: Callable[[Any], Iterable[tuple[str, str]]],
    apply: Callable[[Any, dict[str, Any]], str],
    form_class: type[forms.Form] = ConfirmForm,
) -> HttpResponse | None:
    """A page listing what is selected and what will happen; once confirmed, ``apply`` to each
    object (what it returns is told to staff; a refusal is shown as an error)."""
    return note_action(
        model_admin, request, queryset, action=action, title=title, intro=intro, rows=rows, submit=title,
        apply=apply, form_class=form_class, refused=(WebhookReplayRefused, CallActionRefused),
        refusal=lambda exc: gettext("Refused: {exc}.").format(exc=exc), extra={"back": gettext("Back to the list")},
    )  # fmt: skip


def _short(text: str, length: int = 120) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


# --- The inbox ----------------------------------------------------------------------------------


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyModelAdmin):
    list_display = [
        "received_at",
        "topic",
        "event_id",
        "state",
        "attempts",
        "error",
        "triggered_at",
        "applied_at",
    ]
    list_filter = ["state", "topic"]
    search_fields = ["=event_id", "=webhook_id", "topic", "last_error"]
    date_hierarchy = "received_at"
    fields = readonly_fields = (
        "event_id", "topic", "state", "attempts", "next_attempt_at", "last_error_shown", "webhook_id",
        "shop_domain", "api_version", "triggered_at", "received_at", "applied_at", "pretty_body",
    )  # fmt: skip
    actions = ["replay"]

    # last_error is stored in English: shown in the reader's language.
    @admin.display(description=_("last error"))
    def error(self, obj: WebhookEvent) -> str:
        return _short(stored_text_translated(obj.last_error))

    @admin.display(description=_("last error"))
    def last_error_shown(self, obj: WebhookEvent) -> str:
        return stored_text_translated(obj.last_error)

    @admin.display(description=_("body (as received)"))
    def pretty_body(self, obj: WebhookEvent) -> str:
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", text)

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("shopify.change_webhookevent")

    @admin.action(description=_("Replay the selected events…"), permissions=["act"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> HttpResponse | None:
        def apply(event: WebhookEvent, data: dict[str, Any]) -> str:
            replayed = webhook_replay(event)
            outcome = replayed.get_state_display().lower()
            if replayed.state == WebhookEvent.State.FAILED:
                outcome += f" ({stored_text_translated(replayed.last_error)})"
            return gettext("{topic} {event_id} replayed: {outcome}.").format(topic=event.topic, event_id=event.event_id, outcome=outcome)

        return confirm_action(
            self, request, queryset, action="replay", title=gettext("Replay webhooks"),
            intro=gettext("{count} event(s) selected. Each is applied again, now, by what its subject means here; an event already applied is refused (it never is twice).").format(count=queryset.count()),
            rows=lambda e: [(f"{e.topic} {e.event_id}",
                             f"{e.get_state_display()} — {_short(stored_text_translated(e.last_error), 80)}")],
            apply=apply,
        )  # fmt: skip


# --- The calls ------------------------------------------------------------------------------------


@admin.register(ShopifyCall)
class ShopifyCallAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "kind",
        "subject",
        "state",
        "attempts",
        "next_attempt_at",
        "error",
        "created_at",
        "done_at",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["=subject", "=idempotency_key", "last_error"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "kind", "subject", "state", "attempts", "next_attempt_at", "last_error_shown", "idempotency_key",
        "pretty_payload", "pretty_result", "created_at", "done_at",
    )  # fmt: skip
    actions = ["retry", "cancel"]

    # last_error and the result's words are stored in English: shown in the reader's language.
    @admin.display(description=_("last error"))
    def error(self, obj: ShopifyCall) -> str:
        return _short(stored_text_translated(obj.last_error))

    @admin.display(description=_("last error"))
    def last_error_shown(self, obj: ShopifyCall) -> str:
        return stored_text_translated(obj.last_error)

    @admin.display(description=_("data"))
    def pretty_payload(self, obj: ShopifyCall) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.display(description=_("result"))
    def pretty_result(self, obj: ShopifyCall) -> str:
        if obj.result is None:
            return "—"
        return format_html(
            "<pre>{}</pre>", json.dumps(stored_texts_translated(obj.result), indent=2, ensure_ascii=False)
        )

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("shopify.change_shopifycall")

    @staticmethod
    def _rows(call: ShopifyCall) -> list[tuple[str, str]]:
        detail = gettext("{state}, {attempts} attempt(s) — {error}").format(
            state=call.get_state_display(), attempts=call.attempts,
            error=_short(stored_text_translated(call.last_error), 80),
        )  # fmt: skip
        return [(f"#{call.pk} {call.kind} {call.subject}", detail)]

    @admin.action(description=_("Retry the selected abandoned calls…"), permissions=["act"])
    def retry(self, request: HttpRequest, queryset: QuerySet[ShopifyCall]) -> HttpResponse | None:
        def apply(call: ShopifyCall, data: dict[str, Any]) -> str:
            shopify_call_retry(call)
            return (
                gettext("Call #{call_pk} ({call_kind} {call_subject}) is pending again and goes out shortly.").format(call_pk=call.pk, call_kind=call.kind, call_subject=call.subject)
            )

        return confirm_action(
            self, request, queryset, action="retry", title=gettext("Retry calls to Shopify"),
            intro=gettext("{count} call(s) selected. Each abandoned call is sent again, now, with the same idempotency key (Shopify does not do it twice); if it fails again after its attempts, it is abandoned again. The others are refused.").format(count=queryset.count()),
            rows=self._rows, apply=apply,
        )  # fmt: skip

    @admin.action(description=_("Cancel the selected calls (never sent)…"), permissions=["act"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[ShopifyCall]) -> HttpResponse | None:
        def apply(call: ShopifyCall, data: dict[str, Any]) -> str:
            shopify_call_cancel(call, note=data["note"])
            return gettext("Call #{call_pk} ({call_kind} {call_subject}) is cancelled: it will not go out.").format(call_pk=call.pk, call_kind=call.kind, call_subject=call.subject)

        return confirm_action(
            self, request, queryset, action="cancel", title=gettext("Cancel calls to Shopify"),
            intro=gettext("{count} call(s) selected. Each pending or abandoned call is cancelled: it is no longer sent. What Shopify was to do is left to do by hand.").format(count=queryset.count()),
            rows=self._rows, apply=apply, form_class=NoteForm,
        )  # fmt: skip


# --- The connection ---------------------------------------------------------------------------------


@admin.register(ConnectionState)
class ConnectionStateAdmin(ReadOnlyModelAdmin):
    list_display = [
        "shop",
        "api_version",
        "last_call_at",
        "last_success_at",
        "bucket",
        "error",
        "token_expires_at",
    ]
    fields = readonly_fields = (
        "shop", "api_version", "last_call_at", "last_success_at", "bucket", "restore_rate", "last_error",
        "last_error_at", "token_expires_at",
    )  # fmt: skip

    @admin.display(description=_("points available / maximum"))
    def bucket(self, obj: ConnectionState) -> str:
        if obj.bucket_available is None or obj.bucket_maximum is None:
            return "—"
        return f"{obj.bucket_available:g} / {obj.bucket_maximum:g}"

    @admin.display(description=_("last error"))
    def error(self, obj: ConnectionState) -> str:
        return _short(obj.last_error)
