"""What Shopify's merchant does to an order after it was placed: cancel it, refund (and restock) lines.

- ``orders/cancelled`` (:func:`shopify_order_cancelled`): the payload is applied first (an order we
  never saw is created, then cancelled), then the whole order is cancelled through
  ``orders.cancellation.order_cancel``: released at once if it had not left for the AS400, else
  asked of it (ORDANN). An order cancelled already, or with nothing left to cancel (shipped),
  is left as it is (logged): Shopify's cancellation is recorded on the link either way.
- ``refunds/create`` (:func:`shopify_refund_apply`): each refunded line Shopify restocked
  (``restock_type`` ``return``, ``cancel`` or ``legacy_restock``; ``no_restock`` changes nothing
  here: money only) becomes, per our line, a web return (``returns.services.return_create``,
  RTNIMP) for the units the customer had (shipped or ready in store), and a line cancellation
  (``order_cancel``) for units not yet shipped. A refund is applied once (its Shopify id).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from orders.cancellation import order_cancel
from orders.errors import OrderError, OrderErrorCode
from orders.models import OrderLine
from returns.reasons import ReturnReason
from returns.selectors import returnable_of_order
from returns.services import ReturnLineInput, return_create
from shopify_channel.fulfilment import refund_is_ours
from shopify_channel.models import ShopifyOrder, ShopifyRefund
from shopify_channel.orders import ShopifyPayloadError, shopify_order_apply

logger = logging.getLogger(__name__)

#: Shopify's cancel_reason → our reason code (OARSN, 4 characters).
CANCEL_REASONS = {
    "customer": "CLIE",
    "fraud": "FRAU",
    "inventory": "RUPT",
    "declined": "REFU",
    "staff": "STAF",
    "other": "AUTR",
}
RESTOCKED = {"return", "cancel", "legacy_restock"}
#: Who the cancellations Shopify asks for are requested by.
REQUESTED_BY = "shopify"


def shopify_order_cancelled(payload: object, *, now: datetime) -> ShopifyOrder:
    """Apply an ``orders/cancelled`` payload: the order recorded, then cancelled whole here."""
    with transaction.atomic():
        link = shopify_order_apply(payload, now=now)
        reason = payload.get("cancel_reason") if isinstance(payload, dict) else None
        order = link.order
        try:
            order_cancel(
                order_number=order.order_number, client=order.client,
                reason=CANCEL_REASONS.get(str(reason or "other"), "AUTR"), requested_by=REQUESTED_BY, now=now,
            )  # fmt: skip
        except OrderError as exc:
            if exc.code != OrderErrorCode.NOT_CANCELLABLE:
                raise
            logger.info("Shopify order %s cancelled in Shopify; here: %s", link.name, exc)
    return link


@dataclass(frozen=True)
class RefundOutcome:
    refund: ShopifyRefund
    applied: bool  # False: seen before, nothing done
    returned: list[tuple[int, int]]  # (line number, units) sent back by a return
    cancelled: list[tuple[int, int]]  # (line number, units) cancelled


def _int(block: dict[str, Any], name: str, where: str) -> int:
    value = block.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShopifyPayloadError(f"{where}{name}: expected int, got {type(value).__name__}")
    return value


def shopify_refund_apply(payload: object, *, now: datetime) -> RefundOutcome:
    """Apply a ``refunds/create`` payload once (see the module's docstring)."""
    if not isinstance(payload, dict):
        raise ShopifyPayloadError("the refund payload is not a JSON object")
    refund_id = _int(payload, "id", "")
    order_id = _int(payload, "order_id", "")
    items = payload.get("refund_line_items")
    if not isinstance(items, list):
        raise ShopifyPayloadError("refund_line_items: expected a list")
    asked: dict[str, int] = {}
    for n, item in enumerate(items):
        where = f"refund_line_items[{n}]."
        if not isinstance(item, dict):
            raise ShopifyPayloadError(f"refund_line_items[{n}]: expected an object")
        restock = item.get("restock_type")
        if restock not in RESTOCKED | {"no_restock"}:
            raise ShopifyPayloadError(f"{where}restock_type: {str(restock)[:20]!r} is not one of Shopify's")
        quantity = _int(item, "quantity", where)
        line_item = _int(item, "line_item_id", where)
        if restock in RESTOCKED and quantity > 0:
            asked[str(line_item)] = asked.get(str(line_item), 0) + quantity
    with transaction.atomic():
        link = (
            ShopifyOrder.objects.select_for_update()
            .select_related("order")
            .filter(shopify_id=order_id)
            .first()
        )
        if link is None:
            raise ShopifyPayloadError(
                f"order_id: no Shopify order {order_id} here (its orders/create comes first)"
            )
        existing = ShopifyRefund.objects.filter(shopify_id=refund_id).first()
        if existing is not None:
            return RefundOutcome(existing, False, [], [])
        if refund_is_ours(payload):  # we asked for it (shopify_channel.fulfilment): done here already
            refund, _ = ShopifyRefund.objects.get_or_create(
                shopify_id=refund_id, defaults={"shopify_order": link, "outcome": "ours", "created_at": now}
            )
            return RefundOutcome(refund, False, [], [])
        unknown = sorted(set(asked) - set(link.line_numbers))
        if unknown:
            raise ShopifyPayloadError(
                f"refund_line_items: line item(s) {', '.join(unknown)} not in {link.name}"
            )
        returns, cancels = _split(link, asked)
        order = link.order
        if returns:
            return_create(
                client=order.client, order_number=order.order_number,
                lines=[ReturnLineInput(n, q) for n, q in returns], reason=ReturnReason.OTHER,
                comment=f"Shopify refund {refund_id}: {payload.get('note') or ''!s}"[:500],
                idempotency_key=f"shopify-refund-{refund_id}", now=now,
            )  # fmt: skip
        if cancels:
            order_cancel(
                order_number=order.order_number, client=order.client, lines=cancels, reason="REMB",
                requested_by=REQUESTED_BY, idempotency_key=f"shopify-refund-{refund_id}", now=now,
            )  # fmt: skip
        outcome = "; ".join(
            [
                *(f"line {n}: {q} returned" for n, q in returns),
                *(f"line {n}: {q} cancelled" for n, q in cancels),
            ]
        )
        refund = ShopifyRefund.objects.create(
            shopify_order=link, shopify_id=refund_id, outcome=outcome[:300] or "money only", created_at=now
        )
    return RefundOutcome(refund, True, returns, cancels)


def _split(link: ShopifyOrder, asked: dict[str, int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Per our line: the units to return (the customer had them) and those to cancel (not shipped).

    A Shopify line item may be several of our lines (units at prices a cent apart): its units are
    taken from its lines in order. What the customer had goes back first, then open units are
    cancelled; more than the line has left is refused, naming the line item.
    """
    returnable = returnable_of_order(order_id=link.order_id)
    lines = {line.line_number: line for line in OrderLine.objects.filter(order_id=link.order_id)}
    returns: dict[int, int] = {}
    cancels: dict[int, int] = {}
    for item, wanted in sorted(asked.items()):
        left = wanted
        for number in link.line_numbers[item]:
            line = lines[number]
            back = min(left, returnable[number].units if number in returnable else 0)
            left -= back
            open_units = line.quantity - line.cancelled - line.shipped - line.ready
            cancel = min(left, max(open_units, 0))
            left -= cancel
            if back:
                returns[number] = back
            if cancel:
                cancels[number] = cancel
        if left:
            raise ShopifyPayloadError(
                f"refund_line_items: line item {item} asks {wanted} unit(s) back, {wanted - left} can be"
            )
    return sorted(returns.items()), sorted(cancels.items())
