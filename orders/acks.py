"""ORDACK: what the AS400 said of each order it read.

- A: accepted, with the AS400's order number; the ack's time is kept on the lines, and a STKBAL
  extract taken after it settles their in-flight units (``in_flight_settle``);
- D: the AS400 already had this web order number (a resend): counts as accepted;
- R: refused, with the AS400's reason; the order's in-flight units are released at once and the
  order is listed among those that need attention.

An ack the AS400 cannot mean is not applied and is named in the data-quality report: an A
without the AS400's order number (AKCDE blank: nothing could later cancel or follow that order
on the AS400) in ``accepted_without_as400_number``, a status other than A, R or D in
``unknown_ack_status``. The order is left as it was, still waiting for an answer with its units
held, and the file's anomaly alert says so.

An ack never moves an order backwards: a refusal after an acceptance (or the reverse) is kept as
an anomaly and alerted, not applied. The same ack again changes nothing. An A or D that names
another AS400 order number (AKCDE) than the one our order already has is another AS400 order's
answer under the same web number: kept as an anomaly and alerted, not applied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.alerts import alert_raise
from integration.as400.appliers import ApplyResult
from integration.as400.records import AckRecord
from integration.core.log_context import log_context
from integration.core.stored_texts import StoredText
from integration.models import Alert, OutboxMessage, StorefrontEvent
from integration.storefront.events import event_emit
from orders.cancellation import cancellations_close_on_refusal
from orders.locks import order_lines_locked, orders_locked
from orders.models import Order, OrderEvent, OrderLine
from orders.services import in_flight_remove

OPEN = (Order.Status.PLACED, Order.Status.SENT)

# The order's history lines, stored in English, shown in the reader's language (integration.core.stored_texts).
ACKED = StoredText(gettext_noop("ORDACK {status} in {source}"))
REFUSED = StoredText(gettext_noop("refused by the AS400: {reason}"))
REFUSED_ALERT = StoredText(gettext_noop("order {order} refused by the AS400: {reason}; {released} units released"))


def _unanswered(order: Order) -> bool:
    """Not acknowledged yet: open, or its cancellation was asked after it left, before any ORDACK."""
    return order.status in OPEN or (
        order.status == Order.Status.CANCELLATION_REQUESTED and not order.as400_order_number
    )


def _event(order: Order, to: str, cause: str, now: datetime) -> None:
    OrderEvent.objects.create(order=order, status_from=order.status, status_to=to, cause=cause, at=now)
    order.status = to


def in_flight_release(*, order: Order) -> int:
    """Give back the units an order still holds in flight (it was refused or cancelled before leaving)."""
    return in_flight_remove(list(order_lines_locked().filter(order=order, in_flight__gt=0).order_by("pk")))


def _acked(order: Order, at: datetime | None, now: datetime) -> None:
    OrderLine.objects.filter(order=order, acked_at__isnull=True).update(acked_at=at or now)
    OutboxMessage.objects.filter(subject=order.pk, kind=OutboxMessage.Kind.ORDIMP).exclude(
        state=OutboxMessage.State.ACKED
    ).update(state=OutboxMessage.State.ACKED, acked_at=now)


def ordack_apply(*, acks: Sequence[AckRecord], source: str, now: datetime | None = None) -> ApplyResult:
    """Apply an ORDACK file's records, in order, in the caller's transaction."""
    result = ApplyResult()
    counts: Counter[str] = Counter()
    unknown: list[str] = []
    anomalies: list[str] = []
    other_order: list[str] = []
    no_number: list[str] = []
    unknown_status: list[str] = []
    now = now or timezone.now()
    for ack in acks:
        webn, status, number = ack.order_number, ack.status, ack.as400_order_number
        if status not in ("A", "R", "D"):
            unknown_status.append(f"{webn} ({status!r})")
            continue
        if status == "A" and not str(number).strip():
            no_number.append(f"{webn} (A, AKCDE blank)")
            continue
        at = ack.processed_at
        with log_context(order_number=webn), transaction.atomic():
            order = orders_locked().filter(order_number=webn).first()
            if order is None:
                unknown.append(f"{webn} ({status})")
                continue
            if status in ("A", "D"):
                if number and order.as400_order_number and number != order.as400_order_number:
                    other_order.append(
                        f"{webn}: {status} for AS400 order {number}, ours is {order.as400_order_number}"
                    )
                    continue
                if order.status in OPEN:
                    _event(order, Order.Status.ACCEPTED, ACKED.format(status=status, source=source), now)
                    order.as400_order_number = number or order.as400_order_number
                    order.updated_at = now
                    order.save(update_fields=["status", "as400_order_number", "updated_at"])
                    event_emit(order=order, type=StorefrontEvent.Type.ORDER_ACCEPTED, now=now)
                elif _unanswered(order):  # its cancellation is asked: it stays so, with the AS400's number
                    _event(order, order.status, ACKED.format(status=status, source=source), now)
                    first_ack = not order.as400_order_number
                    order.as400_order_number = number or order.as400_order_number
                    order.updated_at = now
                    order.save(update_fields=["as400_order_number", "updated_at"])
                    if first_ack:  # the storefront still learns the AS400 took it (and its number)
                        event_emit(order=order, type=StorefrontEvent.Type.ORDER_ACCEPTED, now=now)
                elif order.status == Order.Status.REFUSED:
                    anomalies.append(f"{webn}: {status} after a refusal")
                    continue
                _acked(order, at, now)
                counts["accepted" if status == "A" else "duplicate"] += 1
            elif status == "R":
                if not _unanswered(order):
                    if order.status != Order.Status.REFUSED:
                        anomalies.append(f"{webn}: R after {order.status}")
                    continue
                reason = ack.reason
                _event(order, Order.Status.REFUSED, REFUSED.format(reason=reason), now)
                order.refusal_reason = reason[:60]
                order.updated_at = now
                order.save(update_fields=["status", "refusal_reason", "updated_at"])
                event_emit(
                    order=order,
                    type=StorefrontEvent.Type.ORDER_REFUSED,
                    data={"reason_code": ack.reason_code, "reason": reason},
                    now=now,
                )
                released = in_flight_release(order=order)
                cancellations_close_on_refusal(order=order, now=now)  # its ORDANN must not go
                _acked(order, at, now)
                counts["refused"] += 1
                counts["units_released"] += released
                alert_raise(
                    kind="order_refused", subject=webn, severity=Alert.Severity.WARNING,
                    message=REFUSED_ALERT.format(order=webn, reason=reason, released=released),
                    now=now,
                )  # fmt: skip
    result.counts.update(counts)
    result.finding("acks_for_unknown_orders", unknown)
    result.finding("acks_out_of_order", anomalies)
    result.finding("acks_for_another_as400_order", other_order)
    result.finding("accepted_without_as400_number", no_number)
    result.finding("unknown_ack_status", unknown_status)
    if unknown or anomalies or other_order or no_number or unknown_status:
        alert_raise(
            kind="ordack_anomaly", subject=source, severity=Alert.Severity.WARNING,
            message=f"{source}: {len(unknown)} ack(s) for unknown orders, {len(anomalies)} out of order"
            + (f", {len(other_order)} for another AS400 order" if other_order else "")
            + (f", {len(no_number)} accepted without an AS400 number" if no_number else "")
            + (f", {len(unknown_status)} of unknown status" if unknown_status else "")
            + " (not applied)",
            now=now,
        )  # fmt: skip
    return result
