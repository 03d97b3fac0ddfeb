"""Cancelling a web order, whole or some units of its lines, at the storefront's request.

``order_cancel`` decides in one transaction, holding the order's row and its ORDIMP message's row:

- **The order has not left** (no ORDIMP message of it may have reached the AS400, as
  ``integration.outbox.dispatch.outbox_message_may_have_left`` decides — the one rule, which staff's
  cancellation of a message asks too: pending or dead, in no file, never written, and no failed
  write of it published anyway): the units are released here at once. The whole order: its message is cancelled (it never goes), every line's
  in-flight units go back to availability, the order is ``cancelled``. Some units of some lines:
  exactly those units leave ``in_flight`` and count as cancelled on their lines; the ORDIMP file
  that leaves later carries only what is left (``orders.as400_imports.ordimp_order_records``). A request
  that leaves no unit at all is the whole order. The cancellations are ``released`` and the
  storefront is told (``order.cancelled``, by the customer).
- **The order has left** (claimed by a dispatcher, sent, acknowledged, picked...): the AS400 decides.
  A cancellation ``requested`` and its ORDANN message are written together; the ORDANN goes once
  the AS400 has acknowledged the order (the dispatcher waits for that), and the order is
  ``cancellation_requested`` until ORDSTS A says what the AS400 could still cancel. The whole order
  is line 0 for all its open units; only units neither shipped, ready in store, cancelled, nor
  already asked can be asked.

Which case applies is decided under the ORDIMP message's row lock: the dispatcher's claim sets the
message's file in the same transaction as its state (and skips a locked row), so either the claim
came first and the order has left, or the cancellation came first and the claim finds the message
cancelled, or the lines reduced.

The same Idempotency-Key again (for the same order) answers the same cancellation(s), also when two
requests race (the order's row lock serialises them); the same key with other content is refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.core.stored_texts import StoredText
from integration.models import OutboxMessage, StorefrontEvent
from integration.outbox.dispatch import outbox_message_may_have_left
from integration.storefront.events import event_emit
from orders.errors import OrderError, OrderErrorCode
from orders.locks import order_lines_locked, order_messages_locked, orders_locked
from orders.models import Order, OrderCancellation, OrderEvent, OrderLine
from orders.selectors import line_sku
from orders.services import in_flight_reduce, in_flight_remove

#: A reason code as the ORDANN file carries it (OARSN, 4 characters).
REASON = re.compile(r"[A-Z0-9]{1,4}")
#: Statuses from which nothing can be cancelled any more.
OUT_OF_REACH = (
    Order.Status.REFUSED,
    Order.Status.CANCELLED,
    Order.Status.SHIPPED,
    Order.Status.RETURNED,
)
#: The storefront event's ``by`` for a cancellation the storefront asked for.
BY_CUSTOMER = "customer"
BY_STAFF = "staff"
#: How staff's requests are signed (``requested_by``), e.g. by the admin's cancel action.
STAFF_PREFIX = "staff "


# The order's history lines a cancellation writes, stored in English and shown in the reader's language
# (integration.core.stored_texts); each with and without the reason given.
CANCELLED_BEFORE = StoredText(gettext_noop("cancelled by {by} before it left for the AS400"))
CANCELLED_BEFORE_WHY = StoredText(gettext_noop("cancelled by {by} ({reason}) before it left for the AS400"))
LINE_CANCELLED_BEFORE = StoredText(gettext_noop(
    "{quantity} of {ordered} unit(s) of line {line} cancelled by {by} before the order left for the AS400"
))
LINE_CANCELLED_BEFORE_WHY = StoredText(gettext_noop(
    "{quantity} of {ordered} unit(s) of line {line} cancelled by {by} ({reason}) before the order left for "
    "the AS400"
))
WHOLE_ASKED = StoredText(gettext_noop("cancellation of the whole order asked by {by}; the AS400 decides"))
WHOLE_ASKED_WHY = StoredText(gettext_noop(
    "cancellation of the whole order asked by {by} ({reason}); the AS400 decides"
))
LINES_ASKED = StoredText(gettext_noop("cancellation of {what} asked by {by}; the AS400 decides"))
LINES_ASKED_WHY = StoredText(gettext_noop("cancellation of {what} asked by {by} ({reason}); the AS400 decides"))


def cancelled_by(requested_by: str) -> str:
    """Who the storefront is told cancelled: the customer (through the storefront) or staff."""
    return BY_STAFF if requested_by.startswith(STAFF_PREFIX) else BY_CUSTOMER


@dataclass(frozen=True)
class _Asked:
    """A request, normalised: the whole order, or (line number, units) sorted by line."""

    whole: bool
    lines: tuple[tuple[int, int], ...]
    reason: str


def order_cancel(
    *,
    order_number: str,
    client: str,
    lines: Sequence[tuple[int, int]] | None = None,
    reason: str = "",
    idempotency_key: str = "",
    requested_by: str,
    now: datetime | None = None,
) -> list[OrderCancellation]:
    """Cancel the client's order (``lines`` None) or units of its lines ((line number, units) pairs).

    Returns the cancellation(s): ``released`` when done at once (the order had not left), else
    ``requested`` from the AS400 (one per line, or one for the whole order). Raises
    :class:`OrderError`: ``order_not_found`` (unknown, or another client's), ``invalid_order`` (a
    malformed request), ``unknown_line``, ``not_cancellable`` (refused, cancelled, shipped,
    returned, or nothing left to cancel), ``quantity_exceeds_cancellable``,
    ``idempotency_key_conflict`` (the key was used for another request).
    """
    now = now or timezone.now()
    asked = _normalise(lines, reason)
    try:
        with transaction.atomic():
            return _cancel(order_number, client, asked, idempotency_key, requested_by, now)
    except IntegrityError:
        # The same key raced us and won (the order's lock makes this rare): a replay, or a clash.
        if not idempotency_key:
            raise
        order = Order.objects.filter(order_number=order_number, client=client).first()
        replay = _replay(order, idempotency_key, asked) if order is not None else None
        if replay is None:
            raise
        return replay


def _normalise(lines: Sequence[tuple[int, int]] | None, reason: str) -> _Asked:
    if reason and not REASON.fullmatch(reason):
        raise OrderError(
            "reason: a code of 1 to 4 capital letters or digits", code=OrderErrorCode.INVALID,
            detail={"field": "reason"},
        )  # fmt: skip
    if lines is None:
        return _Asked(whole=True, lines=(), reason=reason)
    if not lines:
        raise OrderError(
            "lines: at least one line, or none at all for the whole order", code=OrderErrorCode.INVALID,
            detail={"field": "lines"},
        )  # fmt: skip
    numbers = [number for number, _ in lines]
    if len(set(numbers)) != len(numbers):
        raise OrderError(
            "lines: each line at most once", code=OrderErrorCode.INVALID, detail={"field": "lines"}
        )
    if any(units <= 0 for _, units in lines):
        raise OrderError(
            "lines: a quantity is at least 1", code=OrderErrorCode.INVALID, detail={"field": "lines"}
        )
    return _Asked(whole=False, lines=tuple(sorted((int(n), int(q)) for n, q in lines)), reason=reason)


def _group_keys(key: str, count: int) -> list[str]:
    """The keys of a request's cancellations: the client's key on the first, derived ones on the others.

    A derived key holds a space, which a client's key (printable ASCII without spaces) never does.
    """
    if not key:
        return [""] * count
    digest = hashlib.sha256(key.encode()).hexdigest()
    return [key] + [f"{digest} #{n}" for n in range(2, count + 1)]


def _replay(order: Order, key: str, asked: _Asked) -> list[OrderCancellation] | None:
    """The cancellations recorded under ``key`` if it was used before; a clash if for another request."""
    first = OrderCancellation.objects.filter(order=order, idempotency_key=key).select_related("line").first()
    if first is None:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    others = OrderCancellation.objects.filter(order=order, idempotency_key__startswith=f"{digest} #")
    group = [first, *others.select_related("line").order_by("pk")]
    stored = _Asked(
        whole=first.line is None,
        lines=tuple(sorted((c.line.line_number, c.quantity) for c in group if c.line is not None)),
        reason=first.reason,
    )
    same = stored.reason == asked.reason and (
        stored.whole if asked.whole else (not stored.whole and stored.lines == asked.lines)
    )
    if not same:
        raise OrderError(
            f"this Idempotency-Key was already used for another cancellation of {order.order_number}",
            code=OrderErrorCode.IDEMPOTENCY_KEY_CONFLICT,
            detail={"order_number": order.order_number},
        )
    return group


def _open_units(order: Order, lines: list[OrderLine]) -> dict[int, int]:
    """Per line number, the units that can still be asked: not shipped, ready, cancelled or asked."""
    pending = list(
        OrderCancellation.objects.filter(order=order, state=OrderCancellation.State.REQUESTED).values_list(
            "line_id", "quantity", "confirmed_quantity"
        )
    )
    if any(line_id is None for line_id, _, _ in pending):  # the whole order is asked already
        return {line.line_number: 0 for line in lines}
    asked: dict[int, int] = {}
    for line_id, quantity, confirmed in pending:
        asked[line_id] = asked.get(line_id, 0) + max(quantity - confirmed, 0)
    return {
        line.line_number: max(
            line.quantity - line.cancelled - line.shipped - line.ready - asked.get(line.pk, 0), 0
        )
        for line in lines
    }


def _status(order: Order, to: str, cause: str, now: datetime, line: OrderLine | None = None) -> None:
    """A line of the order's history; the order takes the status ``to`` (it may already have it)."""
    OrderEvent.objects.create(
        order=order, line=line, status_from=order.status, status_to=to, cause=cause[:200], at=now
    )
    if order.status != to:
        order.status, order.updated_at = to, now
        order.save(update_fields=["status", "updated_at"])


def _said(plain: StoredText, with_reason: StoredText, *, by: str, reason: str, **params: object) -> str:
    """The history line from ``plain``, or from ``with_reason`` when a reason was given."""
    return with_reason.format(by=by, reason=reason, **params) if reason else plain.format(by=by, **params)


def _cancel(
    order_number: str, client: str, asked: _Asked, key: str, requested_by: str, now: datetime
) -> list[OrderCancellation]:
    # The order first, as ORDACK and the admin's outbox actions lock it; then its ORDIMP message
    # (waiting for a dispatcher's claim in progress), then its lines.
    order = orders_locked().filter(order_number=order_number, client=client).first()
    if order is None:  # another client's order is not found either
        raise OrderError(f"no order {order_number[:40]}", code=OrderErrorCode.ORDER_NOT_FOUND)
    if key:
        replay = _replay(order, key, asked)
        if replay is not None:
            return replay
    if order.status in OUT_OF_REACH:
        raise OrderError(
            f"order {order.order_number} is {order.status}: nothing can be cancelled",
            code=OrderErrorCode.NOT_CANCELLABLE, detail={"status": order.status},
        )  # fmt: skip
    imports = list(
        order_messages_locked()
        .filter(subject=order.pk, kind=OutboxMessage.Kind.ORDIMP)
        .exclude(state=OutboxMessage.State.CANCELLED)
        .order_by("pk")
    )
    lines = list(order_lines_locked().filter(order=order).order_by("pk"))
    by_number = {line.line_number: line for line in lines}
    unknown = [number for number, _ in asked.lines if number not in by_number]
    if unknown:
        raise OrderError(
            f"order {order.order_number} has no line {', '.join(map(str, unknown))}",
            code=OrderErrorCode.UNKNOWN_LINE, detail={"lines": unknown},
        )  # fmt: skip
    open_units = _open_units(order, lines)
    if not any(open_units.values()):
        raise OrderError(
            f"order {order.order_number} has nothing left to cancel (shipped, ready in store, cancelled "
            "or already asked)",
            code=OrderErrorCode.NOT_CANCELLABLE, detail={"status": order.status},
        )  # fmt: skip
    too_many = [(n, q) for n, q in asked.lines if q > open_units[n]]
    if too_many:
        raise OrderError(
            "more units than can still be cancelled",
            code=OrderErrorCode.QUANTITY_EXCEEDS,
            detail={"lines": [{"line_number": n, "asked": q, "cancellable": open_units[n]} for n, q in too_many]},
        )  # fmt: skip
    if any(outbox_message_may_have_left(message) for message in imports):
        return _request(order, by_number, open_units, asked, key, requested_by, now)
    return _release(order, imports, lines, by_number, open_units, asked, key, requested_by, now)


def _release(
    order: Order,
    imports: list[OutboxMessage],
    lines: list[OrderLine],
    by_number: dict[int, OrderLine],
    open_units: dict[int, int],
    asked: _Asked,
    key: str,
    requested_by: str,
    now: datetime,
) -> list[OrderCancellation]:
    """Before the order left: the units are released now; the ORDIMP carries what is left, or goes not."""
    units = dict(asked.lines) if not asked.whole else {n: q for n, q in open_units.items() if q}
    taken = [(by_number[n], q) for n, q in sorted(units.items())]
    in_flight_reduce(taken)
    for line, quantity in taken:
        OrderLine.objects.filter(pk=line.pk).update(cancelled=F("cancelled") + quantity)
        line.cancelled += quantity
    who = {"by": requested_by, "reason": asked.reason}
    if all(line.cancelled >= line.quantity for line in lines):
        for message in imports:
            message.state = OutboxMessage.State.CANCELLED
            message.save(update_fields=["state"])
        in_flight_remove([line for line in lines if line.in_flight])  # nothing left to hold
        _status(order, Order.Status.CANCELLED, _said(CANCELLED_BEFORE, CANCELLED_BEFORE_WHY, **who), now)
    else:
        for line, quantity in taken:
            _status(
                order, order.status,
                _said(LINE_CANCELLED_BEFORE, LINE_CANCELLED_BEFORE_WHY, **who,
                      quantity=quantity, ordered=line.quantity, line=line.line_number),
                now, line=line,
            )  # fmt: skip
    entries: list[tuple[OrderLine | None, int]] = (
        [(None, sum(units.values()))] if asked.whole else [(line, q) for line, q in taken]
    )
    cancellations = [
        OrderCancellation.objects.create(
            order=order,
            line=line,
            quantity=quantity,
            confirmed_quantity=quantity,
            reason=asked.reason,
            requested_by=requested_by,
            idempotency_key=k,
            state=OrderCancellation.State.RELEASED,
            created_at=now,
            closed_at=now,
        )
        for (line, quantity), k in zip(entries, _group_keys(key, len(entries)), strict=True)
    ]
    event_emit(
        order=order,
        type=StorefrontEvent.Type.ORDER_CANCELLED,
        data={
            "by": cancelled_by(requested_by),
            "reason": asked.reason or None,
            "lines": [
                {"line_number": line.line_number, "sku": line_sku(line), "quantity": q} for line, q in taken
            ],
        },
        now=now,
    )
    return cancellations


def _request(
    order: Order,
    by_number: dict[int, OrderLine],
    open_units: dict[int, int],
    asked: _Asked,
    key: str,
    requested_by: str,
    now: datetime,
) -> list[OrderCancellation]:
    """After the order left: the AS400 is asked (an ORDANN per cancellation, sent after its ORDACK)."""
    entries: list[tuple[OrderLine | None, int]] = (
        [(None, sum(open_units.values()))] if asked.whole else [(by_number[n], q) for n, q in asked.lines]
    )
    cancellations = []
    for (line, quantity), k in zip(entries, _group_keys(key, len(entries)), strict=True):
        cancellation = OrderCancellation.objects.create(
            order=order, line=line, quantity=quantity, reason=asked.reason, requested_by=requested_by,
            idempotency_key=k, state=OrderCancellation.State.REQUESTED, created_at=now,
        )  # fmt: skip
        OutboxMessage.objects.create(
            kind=OutboxMessage.Kind.ORDANN,
            subject=order.pk,
            payload={
                "cancellation": cancellation.pk,
                "line": line.line_number if line is not None else 0,
                "quantity": quantity,
                "reason": asked.reason,
            },
            created_at=now,
            next_attempt_at=now,
        )
        cancellations.append(cancellation)
    who = {"by": requested_by, "reason": asked.reason}
    if asked.whole:
        asked_line = _said(WHOLE_ASKED, WHOLE_ASKED_WHY, **who)
    else:  # the lines' units stay as written (in English) inside the French line
        what = ", ".join(f"{q} unit(s) of line {n}" for n, q in asked.lines)
        asked_line = _said(LINES_ASKED, LINES_ASKED_WHY, **who, what=what)
    _status(order, Order.Status.CANCELLATION_REQUESTED, asked_line, now)
    return cancellations


def cancellations_close_on_refusal(*, order: Order, now: datetime) -> int:
    """The AS400 refused the order: its ORDANN messages must not go, its requested cancellations close.

    Called by ORDACK's refusal path, in its transaction, with the order locked. The refusal released
    the order's units already; the cancellations close as ``released`` (nothing is left to cancel
    at the AS400, which never had the order). Returns the cancellations closed.
    """
    OutboxMessage.objects.filter(
        subject=order.pk,
        kind=OutboxMessage.Kind.ORDANN,
        state__in=(OutboxMessage.State.PENDING, OutboxMessage.State.DEAD),
    ).update(state=OutboxMessage.State.CANCELLED)
    return OrderCancellation.objects.filter(order=order, state=OrderCancellation.State.REQUESTED).update(
        state=OrderCancellation.State.RELEASED, closed_at=now
    )
