"""Sending an order to the AS400 again, and putting our own counters right, on staff's decision
(the nightly reconciliation offers both; they are the orders app's rules, so they live here).

- :func:`order_resend`: an order the AS400 lost (accepted, then gone from its picture), or one it
  never acknowledged, goes again under the same web number. The AS400 answers D if it had it
  after all (with its order number), else imports it anew (A, with a new number): both are applied
  by the ORDACK applier as for a first sending. Its open units count in flight again until a
  STKBAL taken after the new ack holds them: the AS400 no longer promises them, and they must not
  be sold twice meanwhile.
- :func:`in_flight_recount`: a stock pair's ``in_flight`` set back to the sum of its lines'.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from integration.core.errors import DomainError
from integration.core.stored_texts import StoredText
from integration.models import OutboxMessage
from inventory.models import StockLevel
from inventory.moves import availability_moved, cause_uri
from orders.locks import order_lines_locked, order_messages_locked, orders_locked
from orders.models import Order, OrderEvent, OrderLine

S = Order.Status


class ResendRefused(DomainError):
    """This order cannot be resent (staff's action, never the storefront API's: no HTTP status)."""

    code = "not_resendable"


RESENDABLE = (S.ACCEPTED, S.SENT)

# The order's history line, stored in English, shown in the reader's language (integration.core.stored_texts).
RESENT = StoredText(gettext_noop("sent again to the AS400 by {by}: {why}"))
RESENT_LOST = StoredText(gettext_noop("sent again to the AS400 by {by}: {why} (the AS400 had lost its order {lost})"))


def order_resend(*, order: Order, by: str, why: str, now: datetime | None = None) -> OutboxMessage:
    """Queue ``order``'s ORDIMP again (same web number); refused when it cannot mean a resend."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = orders_locked().get(pk=order.pk)
        if locked.status not in RESENDABLE:
            raise ResendRefused(
                gettext("order {order} is {status}: only an accepted or sent order can be resent").format(
                    order=locked.order_number, status=locked.get_status_display().lower()
                )
            )
        waiting = order_messages_locked().filter(
            subject=locked.pk, kind=OutboxMessage.Kind.ORDIMP, state=OutboxMessage.State.PENDING
        )
        if waiting.exists():
            raise ResendRefused(gettext("order {order} already waits to be sent").format(order=locked.order_number))
        lines = list(order_lines_locked().filter(order=locked).order_by("pk"))
        if any(line.picked or line.shipped or line.ready for line in lines):
            raise ResendRefused(
                gettext("order {order} is already moving at the AS400 (picked or shipped): not resent").format(
                    order=locked.order_number
                )
            )
        lost_number = locked.as400_order_number
        add: dict[tuple[int, int], int] = {}
        for line in lines:
            open_units = line.quantity - line.cancelled
            more = max(0, open_units - line.in_flight)
            if more:
                pair = (line.product_id, line.location_id)
                add[pair] = add.get(pair, 0) + more
            OrderLine.objects.filter(pk=line.pk).update(in_flight=F("in_flight") + more, acked_at=None)
        for (product_id, location_id), units in sorted(add.items()):
            StockLevel.objects.filter(product_id=product_id, location_id=location_id).update(
                in_flight=F("in_flight") + units
            )
        availability_moved(add, cause=cause_uri("Order", locked.order_number))
        if lost_number:
            cause = RESENT_LOST.format(by=by, why=why, lost=lost_number)
        else:
            cause = RESENT.format(by=by, why=why)
        OrderEvent.objects.create(
            order=locked, status_from=locked.status, status_to=S.SENT, cause=cause[:200], at=now
        )
        locked.status, locked.as400_order_number, locked.updated_at = S.SENT, "", now
        locked.save(update_fields=["status", "as400_order_number", "updated_at"])
        return OutboxMessage.objects.create(
            kind=OutboxMessage.Kind.ORDIMP, subject=locked.pk, created_at=now, next_attempt_at=now,
            payload={"resend": True, "lost_as400_order_number": lost_number},
        )  # fmt: skip


def in_flight_recount(*, product_id: int, location_id: int) -> tuple[int, int]:
    """Set a pair's ``in_flight`` to what its order lines hold, in one statement (stock levels are
    never locked: see ``inventory.locks``); returns (before, after)."""
    pair = StockLevel.objects.filter(product_id=product_id, location_id=location_id)
    before = pair.values_list("in_flight", flat=True).first() or 0
    held = Subquery(
        OrderLine.objects.filter(product_id=product_id, location_id=location_id)
        .values("product").annotate(u=Sum("in_flight")).values("u")[:1]
    )  # fmt: skip
    pair.update(in_flight=Coalesce(held, Value(0)))
    availability_moved([(product_id, location_id)], cause=cause_uri("StockRecount", f"{product_id}-{location_id}"))
    return before, pair.values_list("in_flight", flat=True).first() or 0


def order_history_note(*, order: Order, cause: str, now: datetime | None = None) -> None:
    """A line in the order's history that changes nothing else (who did what, from where)."""
    OrderEvent.objects.create(
        order=order,
        status_from=order.status,
        status_to=order.status,
        cause=cause[:200],
        at=now or timezone.now(),
    )
