"""Web returns: asked for on the site, announced to the AS400 by RTNIMP.

``return_create`` is the storefront's "send these units back": in one transaction, holding the
order's row lock, it checks what each line can still return, writes the return (an RMA, status
``requested``) and its lines, and queues the RTNIMP message for the dispatcher. The dispatcher
sends it once the order's ORDIMP was acknowledged; when the file is written,
:func:`returns_announce` (an outbox hook, see ``returns.apps``) marks the return ``announced``.
The goods' arrival (ORDSTS R) is applied by ``returns.receipts``.

What a line can still return: its units shipped home or made ready in store, less those already
returned (ORDSTS R, STRRTN R), less those of its returns still open (asked for and not received
yet). Two returns of one line therefore never ask for the same unit, also when they race: both
take the order's lock first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from integration.models import OutboxMessage
from inventory.models import Location
from orders.locks import orders_locked
from orders.models import Order
from returns.errors import ReturnError, ReturnErrorCode
from returns.models import Return, ReturnLine
from returns.numbers import rma_new
from returns.reasons import ReturnReason
from returns.selectors import returnable_of_order

MAX_COMMENT = Return._meta.get_field("comment").max_length or 500


@dataclass(frozen=True)
class ReturnLineInput:
    line_number: int
    quantity: int


def _check_input(lines: Sequence[ReturnLineInput], reason: str, comment: str) -> None:
    """What needs no database: the reason is one of ours, lines are named once with at least one unit."""
    if reason not in ReturnReason.values:
        raise ReturnError(
            f"reason {reason[:8]!r} is not one of {', '.join(ReturnReason.values)}",
            code=ReturnErrorCode.INVALID_REASON,
            detail={"reasons": list(ReturnReason.values)},
        )
    if not lines:
        raise ReturnError(
            "a return needs at least one line", code=ReturnErrorCode.INVALID, detail={"field": "lines"}
        )
    numbers = [line.line_number for line in lines]
    if len(set(numbers)) != len(numbers):
        raise ReturnError(
            "a line is named twice; ask for all its units once", code=ReturnErrorCode.INVALID,
            detail={"field": "lines"},
        )  # fmt: skip
    if any(line.quantity < 1 for line in lines):
        raise ReturnError(
            "each line returns at least one unit", code=ReturnErrorCode.INVALID, detail={"field": "lines"}
        )
    if len(comment) > MAX_COMMENT:
        raise ReturnError(
            f"the comment holds at most {MAX_COMMENT} characters", code=ReturnErrorCode.INVALID,
            detail={"field": "comment"},
        )  # fmt: skip


def _content_hash(
    order_number: str, lines: Sequence[ReturnLineInput], reason: str, comment: str, store: int
) -> str:
    """What was asked, with the store made explicit, to tell a replay from other content under one key."""
    body = {
        "order_number": order_number,
        "lines": sorted((line.line_number, line.quantity) for line in lines),
        "reason": reason,
        "comment": comment,
        "store": store,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _replay(existing: Return, digest: str) -> Return:
    if existing.content_hash != digest:
        raise ReturnError(
            f"this Idempotency-Key was already used for return {existing.rma} with other content",
            code=ReturnErrorCode.IDEMPOTENCY_CONFLICT,
            detail={"rma": existing.rma},
        )
    return existing


def return_create(
    *,
    client: str,
    order_number: str,
    lines: Sequence[ReturnLineInput],
    reason: str,
    comment: str = "",
    store: int | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> tuple[Return, bool]:
    """Ask for a return of units of the client's order; returns it and whether it was created now.

    ``store`` is where the goods come back: by default the warehouse (900) for a home delivery and
    the pickup store for click and collect; any known location otherwise. The same
    ``idempotency_key`` with the same content answers the same return (False), also when two
    requests race; with other content it is refused (``idempotency_key_conflict``).
    """
    now = now or timezone.now()
    _check_input(lines, reason, comment)
    order = Order.objects.filter(order_number=order_number, client=client).first()
    if order is None:  # another client's order is not found either
        raise ReturnError(f"no order {order_number[:40]}", code=ReturnErrorCode.ORDER_NOT_FOUND)
    if store is None:
        store = order.pickup_location_id  # 900 for home delivery, the store for click and collect
    digest = _content_hash(order_number, lines, reason, comment, store)
    try:
        with transaction.atomic():
            # The order's row lock serialises every return of this order (and a racing replay).
            orders_locked().filter(pk=order.pk).first()
            if idempotency_key:
                existing = Return.objects.filter(client=client, idempotency_key=idempotency_key).first()
                if existing is not None:
                    return _replay(existing, digest), False
            if not Location.objects.filter(code=store).exists():
                raise ReturnError(
                    f"location {store} does not exist",
                    code=ReturnErrorCode.INVALID,
                    detail={"field": "store"},
                )
            return _create(order, client, lines, reason, comment, store, idempotency_key, digest, now), True
    except IntegrityError:
        # The same key, raced on another order's lock (or under no lock at all): a replay or a clash.
        if not idempotency_key:
            raise
        existing = Return.objects.filter(client=client, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replay(existing, digest), False


def _create(
    order: Order,
    client: str,
    lines: Sequence[ReturnLineInput],
    reason: str,
    comment: str,
    store: int,
    key: str,
    digest: str,
    now: datetime,
) -> Return:
    returnable = returnable_of_order(order_id=order.pk)
    unknown = sorted(line.line_number for line in lines if line.line_number not in returnable)
    if unknown:
        raise ReturnError(
            f"order {order.order_number} has no line {', '.join(map(str, unknown))}",
            code=ReturnErrorCode.UNKNOWN_LINE,
            detail={"lines": unknown},
        )
    per_line = {
        "returnable": [{"line_number": n, "quantity": r.units} for n, r in sorted(returnable.items())]
    }
    if not any(r.units for r in returnable.values()):
        raise ReturnError(
            f"nothing of order {order.order_number} can be returned (nothing shipped or made ready in store "
            "that is not returned or being returned already)",
            code=ReturnErrorCode.NOTHING_TO_RETURN,
            detail=per_line,
        )
    over = [line for line in lines if line.quantity > returnable[line.line_number].units]
    if over:
        raise ReturnError(
            "; ".join(
                f"line {w.line_number}: {w.quantity} asked, {returnable[w.line_number].units} returnable"
                for w in over
            ),
            code=ReturnErrorCode.QUANTITY_EXCEEDS_RETURNABLE,
            detail=per_line,
        )
    rma = rma_new(Return.Source.WEB)
    while Return.objects.filter(rma=rma).exists():  # all but impossible (see returns.numbers)
        rma = rma_new(Return.Source.WEB)
    ret = Return.objects.create(
        rma=rma, order=order, client=client, source=Return.Source.WEB, status=Return.Status.REQUESTED,
        reason=reason, comment=comment, store=store, idempotency_key=key, content_hash=digest,
        created_at=now, updated_at=now,
    )  # fmt: skip
    ordered = sorted(lines, key=lambda i: i.line_number)
    ReturnLine.objects.bulk_create(
        ReturnLine(ret=ret, order_line=returnable[i.line_number].line, quantity=i.quantity) for i in ordered
    )
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.RTNIMP,
        subject=order.pk,
        payload={
            "rma": ret.rma,
            "reason": reason,
            "store": store,
            "lines": [
                {
                    "line": i.line_number,
                    "item": returnable[i.line_number].line.product.item_number,
                    "quantity": i.quantity,
                }
                for i in ordered
            ],
        },
        created_at=now,
        next_attempt_at=now,
    )
    return ret


def returns_announce(*, message_ids: Sequence[int], now: datetime | None = None) -> int:
    """RTNIMP messages were written to the AS400's IN/ folder: their returns are ``announced``.

    Called by the dispatcher in the transaction that marks the messages sent (``integration.outbox.dispatch``'s
    sent hooks). Only a ``requested`` return moves: a file sent again (after the AS400 refused one)
    or a receipt that came first leaves the return as it is. Returns the returns moved.
    """
    now = now or timezone.now()
    payloads = OutboxMessage.objects.filter(
        pk__in=list(message_ids), kind=OutboxMessage.Kind.RTNIMP
    ).values_list("payload", flat=True)
    rmas = [str(payload["rma"]) for payload in payloads if isinstance(payload, dict) and "rma" in payload]
    if not rmas:
        return 0
    return Return.objects.filter(rma__in=rmas, status=Return.Status.REQUESTED).update(
        status=Return.Status.ANNOUNCED, announced_at=now, updated_at=now
    )
