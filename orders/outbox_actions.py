"""What staff may do to an outbox message by hand: retry a dead one, cancel one that never left.

Both are called from the admin (actions hold no rule) and recorded in the order's history.

A message is cancelled only if it is ``dead`` (its file could not be written) or ``pending``, and
the AS400 cannot have read it: ``integration.outbox.dispatch.outbox_message_may_have_left``, the
same rule that decides whether a customer's cancellation releases an order here or asks the
AS400. A message that may have reached the AS400 (``sent``, ``acked``, sent once, or a failed write
that published its pair all the same) is refused: the order is at the AS400 and is cancelled there
through an ORDANN, not by dropping our copy of the message.

When the cancelled message is an order's ORDIMP and the order is still only ``placed`` here (or its
cancellation was asked before any ORDACK), with no other ORDIMP of it that may have left, the order is
cancelled too, its in-flight units are released and its ORDANN messages cancelled (its requested
cancellations close as released); otherwise the order is left as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from integration.core.actors import actor_name
from integration.core.admin_formats import paris
from integration.core.stored_texts import StoredText
from integration.models import OutboxMessage, StorefrontEvent
from integration.outbox.dispatch import outbox_message_may_have_left
from integration.storefront.events import event_emit
from orders.acks import in_flight_release
from orders.cancellation import cancellations_close_on_refusal
from orders.locks import order_messages_locked, orders_locked
from orders.models import Order, OrderEvent, OrderLine
from orders.selectors import line_sku

logger = logging.getLogger(__name__)

# The order's history lines, stored in English, shown in the reader's language (integration.core.stored_texts).
RETRIED = StoredText(gettext_noop("{kind} message #{pk} retried by {who} (dead after {attempts} attempts)"))
CANCELLED = StoredText(gettext_noop("{kind} message #{pk} cancelled by {who}"))
CANCELLED_NOTE = StoredText(gettext_noop("{kind} message #{pk} cancelled by {who}: {note}"))
ORDER_CANCELLED = StoredText(gettext_noop("its {kind} message #{pk} cancelled by {who} before reaching the AS400"))
ORDER_CANCELLED_NOTE = StoredText(
    gettext_noop("its {kind} message #{pk} cancelled by {who} before reaching the AS400: {note}")
)

CANCELLABLE = (OutboxMessage.State.DEAD, OutboxMessage.State.PENDING)


class OutboxActionRefused(Exception):
    """The message is not in a state that allows the action; the message says why, for staff."""


@dataclass(frozen=True)
class CancelResult:
    message: OutboxMessage
    order_cancelled: bool
    units_released: int


def _note(order: Order, cause: str, now: datetime) -> None:
    """A line in the order's history that does not change its status."""
    OrderEvent.objects.create(
        order=order, status_from=order.status, status_to=order.status, cause=cause[:200], at=now
    )


def _why_not_cancelled(message: OutboxMessage) -> str:
    """Why staff may not cancel this message by hand, "" if they may."""
    if message.state not in CANCELLABLE:
        refusal = (
            gettext("{kind} #{pk} is {state}: only a dead or pending message that never left is cancelled")
            if message.state == OutboxMessage.State.CANCELLED
            else gettext(
                "{kind} #{pk} is {state}: only a dead or pending message that never left is cancelled; "
                "it may already be at the AS400, which must cancel the order itself (ORDANN)"
            )
        )
        return refusal.format(kind=message.kind, pk=message.pk, state=message.get_state_display().lower())
    if outbox_message_may_have_left(message):
        if message.sent_at:
            return gettext("{message} may already have reached the AS400 (sent {at})").format(
                message=message, at=paris(message.sent_at)
            )
        if message.left_in_failed_write:
            return gettext(
                "{message} may already have reached the AS400: a write of it failed after its pair was "
                "published where the AS400 reads (or that could not be checked)"
            ).format(message=message)
        return gettext("{message} is being written to the AS400 now").format(message=message)
    return ""


def outbox_message_retry(
    *, message: OutboxMessage, user: object | None, now: datetime | None = None
) -> OutboxMessage:
    """Put a dead message back in the queue: pending, attempts from zero, due now; recorded."""
    now = now or timezone.now()
    with transaction.atomic():
        order = orders_locked().get(pk=message.subject)  # order first, as ORDACK does
        locked = order_messages_locked().get(pk=message.pk)
        if locked.state != OutboxMessage.State.DEAD:
            raise OutboxActionRefused(
                gettext("{kind} #{pk} is {state}: only a dead message is retried").format(
                    kind=locked.kind, pk=locked.pk, state=locked.get_state_display().lower()
                )
            )
        previous = locked.attempts
        locked.state = OutboxMessage.State.PENDING
        locked.attempts = 0
        locked.next_attempt_at = now
        locked.save(update_fields=["state", "attempts", "next_attempt_at"])  # last_error kept until sent
        _note(
            order,
            RETRIED.format(kind=locked.kind, pk=locked.pk, who=actor_name(user), attempts=previous),
            now,
        )
    logger.info("outbox message %s retried by %s", locked.pk, actor_name(user))
    return locked


def outbox_message_cancel(
    *, message: OutboxMessage, user: object | None, note: str = "", now: datetime | None = None
) -> CancelResult:
    """Cancel a dead or pending message that the AS400 cannot have read; see the module's docstring."""
    now = now or timezone.now()
    who = actor_name(user)
    with transaction.atomic():
        order = orders_locked().get(pk=message.subject)
        # Locked, the dispatcher's claim (SKIP LOCKED) passes it by; claimed first, it reads as sent here.
        locked = order_messages_locked().get(pk=message.pk)
        refusal = _why_not_cancelled(locked)
        if refusal:
            raise OutboxActionRefused(refusal)
        locked.state = OutboxMessage.State.CANCELLED
        locked.save(update_fields=["state"])
        others_left = any(
            outbox_message_may_have_left(other)
            for other in OutboxMessage.objects.filter(subject=order.pk, kind=OutboxMessage.Kind.ORDIMP)
            .exclude(pk=locked.pk)
            .exclude(state=OutboxMessage.State.CANCELLED)
        )
        # Placed, or its cancellation asked while it never left (an ORDANN waits for an ack that
        # cannot come now): nothing of it is at the AS400.
        never_left = order.status == Order.Status.PLACED or (
            order.status == Order.Status.CANCELLATION_REQUESTED and not order.as400_order_number
        )
        cancels_order = locked.kind == OutboxMessage.Kind.ORDIMP and never_left and not others_left
        released = 0
        if cancels_order:
            OrderEvent.objects.create(
                order=order,
                status_from=order.status,
                status_to=Order.Status.CANCELLED,
                cause=(ORDER_CANCELLED_NOTE if note else ORDER_CANCELLED).format(
                    kind=locked.kind, pk=locked.pk, who=who, note=note
                )[:200],
                at=now,
            )
            order.status, order.updated_at = Order.Status.CANCELLED, now
            order.save(update_fields=["status", "updated_at"])
            released = in_flight_release(order=order)
            cancellations_close_on_refusal(order=order, now=now)  # its ORDANN must not go
            lines = list(order.lines.select_related("product__mapping").order_by("line_number"))
            OrderLine.objects.filter(order=order).update(cancelled=F("quantity"))
            event_emit(  # the storefront is told, as for any cancellation
                order=order,
                type=StorefrontEvent.Type.ORDER_CANCELLED,
                data={
                    "by": "staff",
                    "lines": [
                        {
                            "line_number": line.line_number,
                            "sku": line_sku(line),
                            "quantity": line.quantity - line.cancelled,
                        }
                        for line in lines
                        if line.quantity > line.cancelled
                    ],
                },
                now=now,
            )
        else:
            _note(order, (CANCELLED_NOTE if note else CANCELLED).format(kind=locked.kind, pk=locked.pk, who=who, note=note), now)
    logger.info("outbox message %s cancelled by %s (order cancelled: %s)", locked.pk, who, cancels_order)
    return CancelResult(message=locked, order_cancelled=cancels_order, units_released=released)
