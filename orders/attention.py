"""Orders that need staff's attention: the one definition of it, and what staff do about them.

An order needs attention for any of these reasons (:class:`Reason`), each shown with the order:

- ``refused``: the AS400 refused it (ORDACK R), and staff have not resolved it since the refusal;
- ``discrepancy``: one of its ORDSTS/STRRTN events could not be applied as it was read (applied
  in part, unknown line, rejected: ``As400Event.DISCREPANCIES``) and is not resolved;
- ``overdue_return``: one of its web returns is overdue (:func:`returns.attention.returns_overdue`)
  and became so after staff last resolved the order (the condition is the returns app's, registered
  at start-up with :func:`attention_condition_register`: ``orders`` imports no app that depends on it);
- ``shopify_oversold``: a Shopify order the one pool could not cover, kept without units or
  ORDIMP until staff cancel it in Shopify or send it anyway (the condition is ``shopify_channel``'s,
  registered like ``overdue_return``; only those two actions clear it);
- ``dead_message``: one of its outbox messages is dead. Only retrying or cancelling the message
  clears this: a message records no time of death, so a resolution could not tell a message dead
  before it from one that died after.

Events for an order we do not know (``unknown_order``) have no order to attach them to: they are
listed by :func:`as400_discrepancies` with the others.

Staff resolve an order (:func:`order_attention_resolve`: who, when and a note, on the order and in
its history), an event (:func:`as400_event_resolve`), retry an order's dead messages
(:func:`order_dead_messages_retry`, through :mod:`orders.outbox_actions`), or cancel an
order (:func:`order_cancel_by_staff`, through :mod:`orders.cancellation`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import Combinable
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from integration.core.actors import actor_name
from integration.core.admin_formats import paris
from integration.core.errors import DomainError
from integration.core.stored_texts import StoredText
from integration.models import OutboxMessage
from orders.cancellation import STAFF_PREFIX, order_cancel
from orders.errors import OrderError
from orders.locks import as400_events_locked, orders_locked
from orders.models import As400Event, Order, OrderCancellation, OrderEvent
from orders.outbox_actions import OutboxActionRefused, outbox_message_retry

logger = logging.getLogger(__name__)

# The order's history lines, stored in English, shown in the reader's language (integration.core.stored_texts).
EVENT_RESOLVED = StoredText(gettext_noop("AS400 event {event} resolved by {who}: {note}"))
ATTENTION_RESOLVED = StoredText(gettext_noop("attention resolved by {who} ({what}): {note}"))
CANCELLATION_ASKED = StoredText(gettext_noop("cancellation asked by {who}: {note}"))

NOTE_MAX = Order._meta.get_field("attention_note").max_length or 500
RESOLUTION_MAX = As400Event._meta.get_field("resolution").max_length or 300


class Reason(StrEnum):
    REFUSED = "refused"
    DISCREPANCY = "discrepancy"
    OVERDUE_RETURN = "overdue_return"
    DEAD_MESSAGE = "dead_message"
    SHOPIFY_OVERSOLD = "shopify_oversold"

    @property
    def phrase(self) -> str:
        """In a sentence: "refused by the AS400"."""
        return str(REASON_PHRASES[self])  # in the active language

    @property
    def label(self) -> str:
        """As a title: "Refused by the AS400"."""
        return capfirst(str(REASON_PHRASES[self]))


REASON_PHRASES = {
    Reason.REFUSED: _("refused by the AS400"),
    Reason.DISCREPANCY: _("AS400 event not applied as read"),
    Reason.OVERDUE_RETURN: _("web return not received in time"),
    Reason.DEAD_MESSAGE: _("dead outbox message"),
    Reason.SHOPIFY_OVERSOLD: _("Shopify order oversold: cancel it in Shopify or send it anyway"),
}

#: The annotation :func:`attention_annotate` adds for each reason (a boolean).
ANNOTATION = {reason: f"attention_{reason.value}" for reason in Reason}

#: What an order's resolution clears (a dead message is retried or cancelled instead).
RESOLVABLE = (Reason.REFUSED, Reason.DISCREPANCY, Reason.OVERDUE_RETURN)


class AttentionErrorCode(StrEnum):
    NOTE_REQUIRED = "note_required"
    NOTHING_TO_RESOLVE = "nothing_to_resolve"
    NOT_A_DISCREPANCY = "not_a_discrepancy"
    ALREADY_RESOLVED = "already_resolved"
    NO_DEAD_MESSAGE = "no_dead_message"
    CANCEL_REFUSED = "cancel_refused"


class AttentionError(DomainError):
    """A refused action of staff (see :class:`~integration.core.errors.DomainError`)."""

    def __init__(self, message: str, *, code: AttentionErrorCode) -> None:
        super().__init__(message, code=code)


# --- Selectors ---------------------------------------------------------------------------------


#: Conditions of reasons that other apps know how to tell (``overdue_return``: ``returns.apps``;
#: ``shopify_oversold``: ``shopify_channel.apps``): a
#: function of ``now`` giving a boolean expression over an order (``OuterRef("pk")`` is the order).
_REGISTERED: dict[Reason, Callable[[datetime], Q | Combinable]] = {}


def attention_condition_register(reason: Reason, condition: Callable[[datetime], Q | Combinable]) -> None:
    """Say how another app tells that an order needs attention for ``reason`` (once, at start-up)."""
    _REGISTERED[reason] = condition


def _conditions(now: datetime) -> dict[Reason, Q | Combinable]:
    # A refusal is the change to refused (not a note in its history, which keeps the status).
    refused_since_resolution = Exists(
        OrderEvent.objects.filter(
            order=OuterRef("pk"), status_to=Order.Status.REFUSED, at__gt=OuterRef("attention_resolved_at")
        ).exclude(status_from=Order.Status.REFUSED)
    )
    overdue = _REGISTERED.get(Reason.OVERDUE_RETURN)
    oversold = _REGISTERED.get(Reason.SHOPIFY_OVERSOLD)
    return {
        Reason.REFUSED: Q(status=Order.Status.REFUSED)
        & (Q(attention_resolved_at__isnull=True) | refused_since_resolution),
        Reason.DISCREPANCY: Exists(
            As400Event.objects.filter(
                order=OuterRef("pk"), outcome__in=As400Event.DISCREPANCIES, resolved_at__isnull=True
            )
        ),
        Reason.OVERDUE_RETURN: overdue(now) if overdue is not None else Value(False),
        Reason.DEAD_MESSAGE: Exists(
            OutboxMessage.objects.filter(subject=OuterRef("pk"), state=OutboxMessage.State.DEAD)
        ),
        Reason.SHOPIFY_OVERSOLD: oversold(now) if oversold is not None else Value(False),
    }


def attention_annotate(queryset: QuerySet[Order], *, now: datetime | None = None) -> QuerySet[Order]:
    """``queryset`` with a boolean per reason (``attention_refused``...), for :func:`attention_reasons`."""
    conditions = _conditions(now or timezone.now())
    return queryset.annotate(
        **{ANNOTATION[r]: ExpressionWrapper(c, output_field=BooleanField()) for r, c in conditions.items()}
    )


def attention_orders(
    *,
    reason: Reason | str | None = None,
    queryset: QuerySet[Order] | None = None,
    now: datetime | None = None,
) -> QuerySet[Order]:
    """The orders that need attention (for ``reason``, or any), annotated with their reasons."""
    annotated = attention_annotate(queryset if queryset is not None else Order.objects.all(), now=now)
    if reason is not None:
        return annotated.filter(**{ANNOTATION[Reason(reason)]: True})
    any_reason = Q()
    for r in Reason:
        any_reason |= Q(**{ANNOTATION[r]: True})
    return annotated.filter(any_reason)


def attention_reasons(order: Order) -> list[str]:
    """Why ``order`` needs attention, in words; empty when it does not.

    Reads the annotations of :func:`attention_annotate` when the order carries them, else asks
    the database.
    """
    if not hasattr(order, ANNOTATION[Reason.REFUSED]):
        annotated = attention_annotate(Order.objects.filter(pk=order.pk)).first()
        if annotated is None:
            return []
        order = annotated
    reasons = []
    for reason in Reason:
        if not getattr(order, ANNOTATION[reason]):
            continue
        if reason == Reason.REFUSED:
            reasons.append(f"{reason.phrase}: {order.refusal_reason or 'no reason given'}")
        else:
            reasons.append(reason.phrase)
    return reasons


def order_attention(order: Order, *, now: datetime | None = None) -> set[Reason]:
    """The reasons ``order`` needs attention now, read from the database."""
    annotated = attention_annotate(Order.objects.filter(pk=order.pk), now=now).first()
    if annotated is None:
        return set()
    return {r for r in Reason if getattr(annotated, ANNOTATION[r])}


def attention_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Orders needing attention per reason and in all (``any``), and events of unknown orders."""
    now = now or timezone.now()
    counts = {r.value: attention_orders(reason=r, now=now).count() for r in Reason}
    counts["any"] = attention_orders(now=now).count()
    counts["unknown_order"] = as400_discrepancies().filter(outcome=As400Event.Outcome.UNKNOWN_ORDER).count()
    return counts


def as400_discrepancies(*, resolved: bool | None = False) -> QuerySet[As400Event]:
    """ORDSTS/STRRTN events not applied as read: open ones (default), resolved ones, or all (None)."""
    events = As400Event.objects.filter(outcome__in=As400Event.DISCREPANCIES)
    if resolved is None:
        return events
    return events.filter(resolved_at__isnull=not resolved)


# --- Services ----------------------------------------------------------------------------------


def _clean_note(note: str, limit: int) -> str:
    note = " ".join(note.split())
    if not note:
        raise AttentionError(
            gettext("a note is required: say what was done"), code=AttentionErrorCode.NOTE_REQUIRED
        )
    return note[:limit]


def _history(order: Order, cause: str, now: datetime) -> None:
    """A line in the order's history that does not change its status."""
    OrderEvent.objects.create(
        order=order, status_from=order.status, status_to=order.status, cause=cause[:200], at=now
    )


def _event_resolve(event: As400Event, who: str, note: str, now: datetime) -> None:
    event.resolved_at = now
    event.resolved_by = who
    event.resolution = note[:RESOLUTION_MAX]
    event.save(update_fields=["resolved_at", "resolved_by", "resolution"])


def _event_label(event: As400Event) -> str:
    return f"{event.source}#{event.record} ({event.get_outcome_display().lower()})"


def as400_event_resolve(
    *, event: As400Event, user: object | None, note: str, now: datetime | None = None
) -> As400Event:
    """Mark an event that was not applied as read resolved: who, when, what was done; recorded in the
    order's history when the event belongs to an order."""
    now = now or timezone.now()
    who = actor_name(user)
    note = _clean_note(note, RESOLUTION_MAX)
    with transaction.atomic():
        order = orders_locked().filter(pk=event.order_id).first() if event.order_id else None
        locked = as400_events_locked().get(pk=event.pk)
        if locked.outcome not in As400Event.DISCREPANCIES:
            raise AttentionError(
                gettext("{event} was applied as read: there is nothing to resolve").format(
                    event=_event_label(locked)
                ),
                code=AttentionErrorCode.NOT_A_DISCREPANCY,
            )
        if locked.resolved_at is not None:
            raise AttentionError(
                gettext("{event} was resolved by {who} on {at}").format(
                    event=_event_label(locked), who=locked.resolved_by, at=paris(locked.resolved_at)
                ),
                code=AttentionErrorCode.ALREADY_RESOLVED,
            )
        _event_resolve(locked, who, note, now)
        if order is not None:
            _history(order, EVENT_RESOLVED.format(event=_event_label(locked), who=who, note=note), now)
    logger.info("AS400 event %s resolved by %s", locked.pk, who)
    return locked


@dataclass(frozen=True)
class ResolveResult:
    order: Order
    resolved: set[Reason]
    events_resolved: int
    remaining: set[Reason] = field(default_factory=set)


def order_attention_resolve(
    *, order: Order, user: object | None, note: str, now: datetime | None = None
) -> ResolveResult:
    """Staff dealt with what made ``order`` need attention: recorded on it (who, when, the note) and
    in its history. Its open event discrepancies are resolved with the same note; a refusal and
    overdue returns no longer count from now on. A dead message stays until it is retried or
    cancelled (see the module's docstring): ``remaining`` says so. Refused when the order has
    nothing a resolution clears."""
    now = now or timezone.now()
    who = actor_name(user)
    note = _clean_note(note, NOTE_MAX)
    with transaction.atomic():
        locked = orders_locked().get(pk=order.pk)
        reasons = order_attention(locked, now=now)
        resolvable = reasons & set(RESOLVABLE)
        if not resolvable:
            refusal = (
                gettext("{order} has nothing a resolution clears: retry or cancel its dead messages")
                if Reason.DEAD_MESSAGE in reasons
                else gettext("{order} has nothing a resolution clears")
            )
            raise AttentionError(refusal.format(order=locked), code=AttentionErrorCode.NOTHING_TO_RESOLVE)
        events = list(
            as400_events_locked()
            .filter(order=locked, outcome__in=As400Event.DISCREPANCIES, resolved_at__isnull=True)
            .order_by("pk")
        )
        for event in events:
            _event_resolve(event, who, note, now)
        locked.attention_resolved_at = now
        locked.attention_resolved_by = who
        locked.attention_note = note
        locked.updated_at = now
        locked.save(
            update_fields=["attention_resolved_at", "attention_resolved_by", "attention_note", "updated_at"]
        )
        what = ", ".join(r.phrase for r in Reason if r in resolvable)
        _history(locked, ATTENTION_RESOLVED.format(who=who, what=what, note=note), now)
    logger.info("order %s: attention resolved by %s (%s)", locked, who, what)
    return ResolveResult(
        order=locked, resolved=resolvable, events_resolved=len(events), remaining=reasons - resolvable
    )


def order_discrepancies_resolve(
    *, order: Order, user: object | None, note: str, now: datetime | None = None
) -> list[As400Event]:
    """Resolve every open event discrepancy of ``order`` with one note (each recorded)."""
    events = list(as400_discrepancies().filter(order=order).order_by("pk"))
    if not events:
        raise AttentionError(
            gettext("{order} has no AS400 event left to resolve").format(order=order),
            code=AttentionErrorCode.NOTHING_TO_RESOLVE,
        )
    return [as400_event_resolve(event=e, user=user, note=note, now=now) for e in events]


def order_dead_messages_retry(
    *, order: Order, user: object | None, now: datetime | None = None
) -> list[OutboxMessage]:
    """Put every dead outbox message of ``order`` back in the queue (each recorded in its history)."""
    dead = list(OutboxMessage.objects.filter(subject=order.pk, state=OutboxMessage.State.DEAD).order_by("pk"))
    if not dead:
        raise AttentionError(
            gettext("{order} has no dead outbox message").format(order=order),
            code=AttentionErrorCode.NO_DEAD_MESSAGE,
        )
    retried = []
    for message in dead:
        try:
            retried.append(outbox_message_retry(message=message, user=user, now=now))
        except OutboxActionRefused:  # retried meanwhile by someone else: nothing left to do for it
            continue
    return retried


def reason_choices() -> list[tuple[str, str]]:
    return [(r.value, r.label) for r in Reason]


def order_cancel_by_staff(
    *, order: Order, user: object | None, note: str, reason: str = "", now: datetime | None = None
) -> list[OrderCancellation]:
    """Cancel the whole order on staff's decision, through :func:`orders.cancellation.order_cancel`
    (released at once if it has not left, else asked of the AS400 by ORDANN), with the staff member
    as the requester and the note in the order's history. What cannot be cancelled is refused
    with the cancellation's own message (``cancel_refused``)."""
    now = now or timezone.now()
    who = actor_name(user)
    note = _clean_note(note, 150)
    try:
        with transaction.atomic():
            cancellations = order_cancel(
                order_number=order.order_number, client=order.client, reason=reason,
                requested_by=f"{STAFF_PREFIX}{who}"[:64], now=now,
            )  # fmt: skip
            locked = orders_locked().get(pk=order.pk)
            _history(locked, CANCELLATION_ASKED.format(who=who, note=note), now)
    except OrderError as exc:
        # The cancellation's refusal is the storefront API's, in English: said inside staff's sentence.
        raise AttentionError(
            gettext("the cancellation was refused: {why}").format(why=exc), code=AttentionErrorCode.CANCEL_REFUSED
        ) from exc
    logger.info("order %s: cancellation asked by %s", order, who)
    return cancellations
