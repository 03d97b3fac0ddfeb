"""Admin for business staff: web orders and the AS400's events about them, read-only.

The storefront and the AS400 own an order: nothing here edits one. Staff find orders (by web or
AS400 number, customer, status), read their whole life on one page, and deal with the ones that
need attention through actions that call services:

- *Orders*: lines with their counters, history, AS400 events, cancellations, returns, outbox
  messages and storefront events inline; the customer as given next to what the ORDIMP file
  carries (``order_as_sent``). Actions: mark resolved with a note, retry dead messages, resolve
  AS400-event discrepancies, cancel the order (:mod:`orders.attention`, which calls
  :mod:`orders.outbox_actions` and :mod:`orders.cancellation`).
- *AS400 events*: every ORDSTS/STRRTN record and its outcome, those of unknown orders included;
  discrepancies are resolved with a note.
- *Orders needing attention*: a page with the count of each reason (:func:`orders.attention.attention_counts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from integration.as400.codec import EncodeError
from integration.core.admin_formats import as400_time, euros, paris
from integration.core.admin_pages import ReadOnlyInline, ReadOnlyModelAdmin, register_admin_page
from integration.core.admin_pages import note_action as admin_note_action
from integration.models import OutboxMessage, StorefrontEvent
from inventory.labels import product_label
from orders.as400_imports import FREE_TEXT
from orders.attention import (
    NOTE_MAX,
    AttentionError,
    Reason,
    as400_discrepancies,
    as400_event_resolve,
    attention_annotate,
    attention_counts,
    attention_orders,
    attention_reasons,
    order_attention_resolve,
    order_cancel_by_staff,
    order_dead_messages_retry,
    order_discrepancies_resolve,
    reason_choices,
)
from orders.models import As400Event, Order, OrderCancellation, OrderEvent, OrderLine, status_label
from orders.services import order_as_sent


def _link(url_name: str, pk: Any, text: object) -> SafeString:
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), text)


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = (
        "line_number",
        "product_label",
        "location",
        "quantity",
        "unit_price_euros",
        "acked_at",
        "in_flight",
        "picked",
        "shipped",
        "ready",
        "cancelled",
        "returned",
    )


    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("product__mapping", "location")

    @admin.display(description=_("product"))
    def product_label(self, obj: OrderLine) -> str:
        return product_label(obj.product)

    @admin.display(description=_("unit price"))
    def unit_price_euros(self, obj: OrderLine) -> str:
        return euros(obj.unit_price)


class OrderEventInline(ReadOnlyInline):
    """The order's own status changes, with their labels. A line's changes (one per AS400 event) are
    not repeated here: the AS400 events below show them, line by line."""

    model = OrderEvent
    verbose_name_plural = _("history")
    fields = readonly_fields = ("at", "status_from_label", "status_to_label", "cause_shown")
    ordering = ["at", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).filter(line__isnull=True)

    @admin.display(description=_("status from"))
    def status_from_label(self, obj: OrderEvent) -> str:
        return status_label(obj.status_from)

    @admin.display(description=_("status to"))
    def status_to_label(self, obj: OrderEvent) -> str:
        return status_label(obj.status_to)

    @admin.display(description=_("cause"))
    def cause_shown(self, obj: OrderEvent) -> str:
        return obj.cause_shown


class As400EventInline(ReadOnlyInline):
    model = As400Event
    fk_name = "order"
    verbose_name_plural = _("AS400 events (ORDSTS, STRRTN)")
    fields = readonly_fields = (
        "event",
        "kind",
        "line_number",
        "quantity",
        "applied_quantity",
        "tracking",
        "store",
        "occurred_at_as400",
        "outcome",
        "note",
        "resolved",
    )
    ordering = ["received_at", "id"]

    @admin.display(description=_("event"))
    def event(self, obj: As400Event) -> str:
        return _link("admin:orders_as400event_change", obj.pk, f"{obj.source}#{obj.record}")

    @admin.display(description=_("occurred at"))
    def occurred_at_as400(self, obj: As400Event) -> str:
        return as400_time(obj.occurred_at)

    @admin.display(description=_("resolved"))
    def resolved(self, obj: As400Event) -> str:
        return _resolved(obj)


class OrderCancellationInline(ReadOnlyInline):
    model = OrderCancellation
    verbose_name_plural = _("cancellations")
    fields = readonly_fields = (
        "line",
        "quantity",
        "confirmed_quantity",
        "reason",
        "requested_by",
        "state",
        "created_at",
        "closed_at",
    )


#: Inlines of other apps about an order (its returns: ``returns.admin``), shown on its page.
_OTHER_INLINES: list[type[InlineModelAdmin]] = []  # type: ignore[type-arg]


def order_inline_register(inline: type[InlineModelAdmin]) -> None:  # type: ignore[type-arg]
    """Show another app's rows about an order on its page (``orders`` imports no app that depends on it)."""
    if inline not in _OTHER_INLINES:
        _OTHER_INLINES.append(inline)


def _resolved(obj: As400Event) -> str:
    if obj.outcome not in As400Event.DISCREPANCIES:
        return "-"
    if obj.resolved_at is None:
        return gettext("open")
    return gettext("{at} by {who}: {resolution}").format(at=paris(obj.resolved_at), who=obj.resolved_by, resolution=obj.resolution)


# --- Actions that ask for a note first ---------------------------------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("What was done or decided; kept with your name and the time."),
    )


class CancelForm(forms.Form):
    reason = forms.RegexField(
        regex=r"^[A-Z0-9]{1,4}$",
        required=False,
        max_length=4,
        help_text=_("Reason code sent to the AS400 (OARSN): 1 to 4 capital letters or digits; may be empty."),
    )
    note = forms.CharField(
        max_length=150,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=_("Why, for the order's history (with your name and the time)."),
    )


def note_action(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    intro: str,
    rows: Callable[[Any], Iterable[tuple[str, str]]],
    submit: str,
    apply: Callable[[Any, dict[str, Any]], str],
    form_class: type[forms.Form] = NoteForm,
) -> HttpResponse | None:
    """Ask for a note (a page listing what is selected), then ``apply(obj, cleaned_data)`` to each object.

    ``apply`` returns what to tell staff; an :class:`AttentionError` is shown as an error.
    """
    return admin_note_action(
        model_admin, request, queryset, action=action, title=title, intro=intro, rows=rows, submit=submit,
        apply=apply, form_class=form_class, refused=(AttentionError,),
    )  # fmt: skip


# --- Orders ------------------------------------------------------------------------------------


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Orders someone must look at (:func:`orders.attention.attention_orders`), for any reason or one."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("any", gettext("Needs attention (any reason)")), *reason_choices()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        value = self.value()
        if value == "any":
            return attention_orders(queryset=queryset)
        if value in {r.value for r in Reason}:
            return attention_orders(reason=value, queryset=queryset)
        return queryset


def order_channel(order: Order) -> str:
    """The storefront an order came from: Shopify (its client is SHOPIFY_CLIENT_NAME) or headless."""
    return CHANNEL_SHOPIFY if order.client == settings.SHOPIFY_CLIENT_NAME else CHANNEL_HEADLESS


CHANNEL_SHOPIFY = "Shopify"
CHANNEL_HEADLESS = "Headless"


class ChannelFilter(admin.SimpleListFilter):
    """Shopify's orders or the headless storefront's, by the order's client."""

    title = _("channel")
    parameter_name = "channel"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("shopify", CHANNEL_SHOPIFY), ("headless", CHANNEL_HEADLESS)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "shopify":
            return queryset.filter(client=settings.SHOPIFY_CLIENT_NAME)
        if self.value() == "headless":
            return queryset.exclude(client=settings.SHOPIFY_CLIENT_NAME)
        return queryset


@admin.register(Order)
class OrderAdmin(ReadOnlyModelAdmin):
    list_display = [
        "order_number",
        "as400_order_number",
        "channel",
        "customer",
        "status",
        "total_euros",
        "placed_at",
        "attention",
    ]
    list_display_links = ["order_number", "as400_order_number"]
    list_filter = [NeedsAttentionFilter, ChannelFilter, "status", "delivery", "client", "created_at"]
    search_fields = [
        "=order_number",
        "=as400_order_number",
        "last_name",
        "first_name",
        "email",
        "^postal_code",
        "=status",
    ]
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
        (
            _("Attention"),
            {"fields": ["attention", "attention_resolved_at", "attention_resolved_by", "attention_note"]},
        ),
        (_("Customer"), {"fields": ["customer_as_sent", "country"]}),
        (_("Storefront"), {"fields": ["storefront_events"]}),
        (_("Outbox messages (retry or cancel them from Outbox messages)"), {"fields": ["outbox_messages"]}),
        (_("Record"), {"fields": ["idempotency_key", "content_hash"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        *(f.name for f in Order._meta.fields),
        "attention",
        "customer_as_sent",
        "storefront_events",
        "outbox_messages",
    ]
    inlines = [
        OrderLineInline,
        OrderEventInline,
        As400EventInline,
        OrderCancellationInline,
    ]
    actions = ["resolve_attention", "retry_dead_messages", "resolve_discrepancies", "cancel_orders"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return attention_annotate(super().get_queryset(request))

    def get_inlines(self, request: HttpRequest, obj: Order | None) -> list[type[InlineModelAdmin]]:  # type: ignore[type-arg]
        """Ours, then other apps' rows about the order (:func:`order_inline_register`)."""
        return [*self.inlines, *_OTHER_INLINES]

    @admin.display(description=_("channel"), ordering="client")
    def channel(self, obj: Order) -> str:
        return order_channel(obj)

    @admin.display(description=_("total"), ordering="total")
    def total_euros(self, obj: Order) -> str:
        return euros(obj.total)

    @admin.display(description=_("customer"), ordering="last_name")
    def customer(self, obj: Order) -> str:
        return f"{obj.last_name} {obj.first_name}".strip()

    @admin.display(description=_("placed at"), ordering="created_at")
    def placed_at(self, obj: Order) -> Any:
        return obj.created_at

    @admin.display(description=_("needs attention"))
    def attention(self, obj: Order) -> str:
        return "; ".join(attention_reasons(obj))

    @admin.display(description=_("as given / as sent to the AS400"))
    def customer_as_sent(self, obj: Order) -> str:
        """Each free-text field as the storefront gave it and as ORDIMP carries it (folded, cut)."""
        try:
            sent = order_as_sent(obj)
        except EncodeError as exc:  # the page must still open for an order the codec would refuse now
            return gettext("cannot be encoded for the AS400: {exc}").format(exc=exc)
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    capfirst(Order._meta.get_field(name).verbose_name),  # type: ignore[union-attr]
                    getattr(obj, name),
                    sent[name],
                    "" if sent[name] == getattr(obj, name) else "≠",
                )
                for name in FREE_TEXT
            ),
        )
        return format_html(
            "<table><thead><tr><th></th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{}</tbody></table>",
            gettext("as given"),
            gettext("as sent ({file})").format(file="ORDIMP"),
            rows,
        )

    @admin.display(description=_("storefront events (webhooks)"))
    def storefront_events(self, obj: Order) -> str:
        """What the storefront was told of this order, and how each webhook delivery went."""
        events = (
            StorefrontEvent.objects.filter(order_number=obj.order_number, client=obj.client)
            .prefetch_related("deliveries")
            .order_by("id")
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    paris(event.created_at, seconds=True),
                    event.type,
                    event.rma or "",
                    event.event_id,
                    ", ".join(
                        ngettext("{state} ({attempts} attempt)", "{state} ({attempts} attempts)", d.attempts).format(
                            state=d.get_state_display(), attempts=d.attempts
                        )
                        for d in event.deliveries.all()
                    )
                    or gettext("no webhook"),
                )
                for event in events
            ),
        )
        if not rows:
            return gettext("none yet")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>RMA</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            gettext("at"),
            gettext("type"),
            gettext("event id"),
            gettext("webhook"),
            rows,
        )

    @admin.display(description=_("outbox messages"))
    def outbox_messages(self, obj: Order) -> str:
        """The order's messages to the AS400 (their ``subject`` is its id: the outbox has no relation to it)."""
        messages = OutboxMessage.objects.filter(subject=obj.pk).select_related("outbound_file").order_by("id")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _link("admin:integration_outboxmessage_change", m.pk, m),
                    m.get_state_display(),
                    m.attempts,
                    m.last_error or "-",
                    m.outbound_file or "-",
                    paris(m.sent_at, seconds=True) or "-",
                    paris(m.acked_at, seconds=True) or "-",
                )
                for m in messages
            ),
        )
        if not rows:
            return gettext("none")
        heads = [
            gettext("message"), gettext("state"), gettext("attempts"), gettext("last error"),
            gettext("outbound file"), gettext("sent at"), gettext("acked at"),
        ]  # fmt: skip
        return format_html(
            "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<th>{}</th>", ((h,) for h in heads)),
            rows,
        )

    def has_act_permission(self, request: HttpRequest) -> bool:
        """The actions: for those allowed to change orders (the pages themselves stay read-only)."""
        return request.user.has_perm("orders.change_order")

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("integration.change_outboxmessage")

    @admin.action(description=_("Mark the selected orders' attention resolved…"), permissions=["act"])
    def resolve_attention(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        def apply(order: Order, data: dict[str, Any]) -> str:
            result = order_attention_resolve(order=order, user=request.user, note=data["note"])
            done = gettext("{order}: resolved ({join})").format(order=order, join=', '.join(r.phrase for r in Reason if r in result.resolved))
            if result.events_resolved:
                done += gettext(", {events_resolved} AS400 event(s) resolved with it").format(events_resolved=result.events_resolved)
            if Reason.DEAD_MESSAGE in result.remaining:
                done += gettext("; it still has dead outbox messages: retry or cancel them")
            return done + "."

        return note_action(
            self, request, queryset,
            action="resolve_attention",
            title=gettext("Mark orders resolved"),
            intro=gettext("Your note is kept on each order with your name and the time, and in its history. The "
            "order's open AS400-event discrepancies are resolved with the same note; its refusal and "
            "overdue returns no longer count. Dead outbox messages stay until they are retried or cancelled."),
            rows=lambda o: [(str(o), "; ".join(attention_reasons(o)) or gettext("nothing needs attention"))],
            submit=gettext("Mark resolved"),
            apply=apply,
        )  # fmt: skip

    @admin.action(description=_("Retry the dead outbox messages of the selected orders"), permissions=["retry"])
    def retry_dead_messages(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset.order_by("pk"):
            try:
                retried = order_dead_messages_retry(order=order, user=request.user)
            except AttentionError as exc:
                messages.error(request, str(exc))
            else:
                names = ", ".join(f"{m.kind} #{m.pk}" for m in retried)
                messages.success(request, gettext("{order}: {names} pending again.").format(order=order, names=names))

    @admin.action(
        description=_("Resolve the AS400-event discrepancies of the selected orders…"), permissions=["act"]
    )
    def resolve_discrepancies(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        def apply(order: Order, data: dict[str, Any]) -> str:
            events = order_discrepancies_resolve(order=order, user=request.user, note=data["note"])
            return gettext("{order}: {count} AS400 event(s) resolved.").format(order=order, count=len(events))

        def rows(order: Order) -> list[tuple[str, str]]:
            open_events = as400_discrepancies().filter(order=order).order_by("pk")
            return [(str(order), str(e) + f" — {e.get_outcome_display()}") for e in open_events] or [
                (str(order), gettext("no open discrepancy"))
            ]

        return note_action(
            self, request, queryset,
            action="resolve_discrepancies",
            title=gettext("Resolve AS400-event discrepancies"),
            intro=gettext("Each open discrepancy of these orders is marked resolved with your note, your name and "
            "the time, and the order's history says so. Nothing is applied to the order's lines."),
            rows=rows,
            submit=gettext("Resolve"),
            apply=apply,
        )  # fmt: skip

    @admin.action(description=_("Cancel the selected orders…"), permissions=["act"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        def apply(order: Order, data: dict[str, Any]) -> str:
            cancellations = order_cancel_by_staff(
                order=order, user=request.user, note=data["note"], reason=data["reason"]
            )
            order.refresh_from_db(fields=["status"])
            states = ", ".join(sorted({c.state for c in cancellations}))
            return gettext("{order}: {status} (cancellation {states}).").format(
                order=order, status=order.get_status_display().lower(), states=states
            )

        return note_action(
            self, request, queryset,
            action="cancel_orders",
            title=gettext("Cancel orders"),
            intro=gettext("Each whole order is cancelled as a storefront's request would be "
            "(orders.cancellation): one that has not left for the AS400 is cancelled here at once and its "
            "units released; one the AS400 has is asked of it (ORDANN) and stays 'cancellation requested' "
            "until the AS400 answers. Refused, shipped, returned or cancelled orders are refused."),
            rows=lambda o: [(str(o), o.get_status_display())],
            submit=gettext("Cancel these orders"),
            apply=apply,
            form_class=CancelForm,
        )  # fmt: skip


# --- AS400 events ------------------------------------------------------------------------------


class DiscrepancyFilter(admin.SimpleListFilter):
    title = _("discrepancy")
    parameter_name = "discrepancy"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("open", gettext("Open discrepancies")),
            ("resolved", gettext("Resolved discrepancies")),
            ("none", gettext("Applied as read")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[As400Event]) -> QuerySet[As400Event]:
        if self.value() == "open":
            return queryset.filter(pk__in=as400_discrepancies(resolved=False).values("pk"))
        if self.value() == "resolved":
            return queryset.filter(pk__in=as400_discrepancies(resolved=True).values("pk"))
        if self.value() == "none":
            return queryset.exclude(pk__in=as400_discrepancies(resolved=None).values("pk"))
        return queryset


@admin.register(As400Event)
class As400EventAdmin(ReadOnlyModelAdmin):
    """Every ORDSTS/STRRTN record as read and what it did; those of unknown orders have no order link."""

    list_display = [
        "received_at",
        "event",
        "kind",
        "order_link",
        "line_number",
        "quantity",
        "outcome",
        "resolved",
    ]  # at 1400 px, beside the filters: the applied quantity is on the event's page
    list_display_links = ["received_at", "event"]
    list_filter = [DiscrepancyFilter, "outcome", "file", "kind"]
    search_fields = ["=order_number", "=as400_order_number", "=source", "tracking"]
    list_select_related = ["order"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in As400Event._meta.fields]
    actions = ["resolve"]

    @admin.display(description=_("event"), ordering="source")
    def event(self, obj: As400Event) -> str:
        return f"{obj.source}#{obj.record}"

    @admin.display(description=_("order"), ordering="order_number")
    def order_link(self, obj: As400Event) -> str:
        if obj.order_id is None:
            return gettext("{order_number} (unknown)").format(order_number=obj.order_number)
        return _link("admin:orders_order_change", obj.order_id, obj.order_number)

    @admin.display(description=_("resolved"))
    def resolved(self, obj: As400Event) -> str:
        return _resolved(obj)

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_as400event")

    @admin.action(description=_("Resolve the selected discrepancies…"), permissions=["act"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[As400Event]) -> HttpResponse | None:
        def apply(event: As400Event, data: dict[str, Any]) -> str:
            as400_event_resolve(event=event, user=request.user, note=data["note"])
            return gettext("{event} ({order_number}) resolved.").format(
                event=f"{event.source}#{event.record}", order_number=event.order_number
            )

        return note_action(
            self, request, queryset,
            action="resolve",
            title=gettext("Resolve AS400-event discrepancies"),
            intro=gettext("Each event is marked resolved with your note, your name and the time (and in its order's "
            "history when the order is ours). Nothing is applied to any order."),
            rows=lambda e: [(f"{e.source}#{e.record} {e.order_number}", f"{e.get_outcome_display()} {e.note}")],
            submit=gettext("Resolve"),
            apply=apply,
        )  # fmt: skip


# --- The "needs attention" page ----------------------------------------------------------------

ATTENTION_URL_NAME = "orders_attention"
ATTENTION_TEMPLATE = "admin/orders/attention.html"
ATTENTION_TITLE = _("Orders needing attention")
ATTENTION_SHOWN = 50
ATTENTION_PERMISSION = "orders.view_order"  # the page lists orders


def attention_page(site: admin.AdminSite) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        counts = attention_counts(now=now)
        orders_url = reverse(f"{site.name}:orders_order_changelist")
        events_url = reverse(f"{site.name}:orders_as400event_changelist")
        orders = list(attention_orders(now=now).order_by("created_at")[:ATTENTION_SHOWN])
        context: dict[str, Any] = {
            **site.each_context(request),
            "title": ATTENTION_TITLE,
            "reasons": [(r.label, counts[r.value], f"{orders_url}?attention={r.value}") for r in Reason],
            "total": counts["any"],
            "total_url": f"{orders_url}?attention=any",
            "unknown_orders": counts["unknown_order"],
            "unknown_orders_url": f"{events_url}?discrepancy=open&outcome__exact=unknown_order",
            "open_events_url": f"{events_url}?discrepancy=open",
            "overdue_returns_url": reverse(f"{site.name}:returns_return_changelist") + "?overdue=yes",
            "dead_messages_url": reverse(f"{site.name}:integration_outboxmessage_changelist")
            + "?state__exact=dead",
            "orders": [
                (
                    order,
                    reverse(f"{site.name}:orders_order_change", args=[order.pk]),
                    "; ".join(attention_reasons(order)),
                )
                for order in orders
            ],
            "shown": ATTENTION_SHOWN,
        }
        return TemplateResponse(request, ATTENTION_TEMPLATE, context)

    return view


def register_attention_admin(site: admin.AdminSite) -> None:
    register_admin_page(
        site, route="orders-attention/", url_name=ATTENTION_URL_NAME, title=ATTENTION_TITLE,
        object_name="OrdersAttention", view=attention_page(site), permission=ATTENTION_PERMISSION,
    )  # fmt: skip


register_attention_admin(admin.site)


# The outbox's messages are orders' messages: their admin, with its order actions.
from orders.admin_outbox import OutboxMessageAdmin as OutboxMessageAdmin  # noqa: E402
