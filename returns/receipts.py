"""Goods coming back: the returns that ORDSTS R and STRRTN R report.

- ORDSTS R (the AS400 received the goods of a return): they are the goods of the oldest open web
  return of that order line (announced by RTNIMP, or still waiting to be announced), first come
  first served; each return line's ``received_quantity`` grows, and its return becomes
  ``partially_received`` or ``received``. Units no open web return expects (the customer sent
  them back without asking, or the return was made by phone at the AS400's end) become a return
  of its own, ``source=as400``, received at once.
- STRRTN R (goods brought back to a store counter): a ``source=store`` return, received at once,
  at that store, with the store's reason code.

Both run inside the caller's transaction, with the order line already locked (``orders.lifecycle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F

from integration.models import OutboxMessage
from orders.models import OrderLine
from orders.returns_port import ReturnReceipt
from returns.locks import return_lines_locked
from returns.models import Return, ReturnLine
from returns.numbers import rma_new

#: A web return that still expects goods.
OPEN_WEB = (Return.Status.REQUESTED, Return.Status.ANNOUNCED, Return.Status.PARTIALLY_RECEIVED)


@dataclass(frozen=True)
class Receipt:
    """Units of one return received by one event."""

    ret: Return
    quantity: int

    @property
    def announced(self) -> bool:
        """A return the storefront asked for (a web return), not one made for the receipt."""
        return self.ret.source == Return.Source.WEB


def return_receive(*, line: OrderLine, quantity: int, at: datetime, now: datetime) -> list[Receipt]:
    """ORDSTS R: ``quantity`` units of ``line`` arrived at the AS400 at ``at``. Returns what each return received.

    ``at`` is the AS400's time of the receipt; ``now`` the moment we learn it (the rows we write).
    """
    receipts: list[Receipt] = []
    left = quantity
    waiting = (
        return_lines_locked()
        .filter(
            order_line=line,
            ret__source=Return.Source.WEB,
            ret__status__in=OPEN_WEB,
            received_quantity__lt=F("quantity"),
        )
        .select_related("ret")
        .order_by("ret__created_at", "ret_id")
    )
    for return_line in waiting:
        if left <= 0:
            break
        take = min(left, return_line.quantity - return_line.received_quantity)
        return_line.received_quantity += take
        return_line.save(update_fields=["received_quantity"])
        left -= take
        ret = return_line.ret
        expected = ReturnLine.objects.filter(ret=ret, received_quantity__lt=F("quantity")).exists()
        ret.status = Return.Status.PARTIALLY_RECEIVED if expected else Return.Status.RECEIVED
        ret.received_at, ret.updated_at = at, now
        ret.save(update_fields=["status", "received_at", "updated_at"])
        if not expected:
            _announcement_withdraw(ret)
        receipts.append(Receipt(ret, take))
    if left > 0:
        ret = _received_return(
            line=line, quantity=left, source=Return.Source.AS400, store=line.location_id, reason="", at=at,
            now=now,
        )  # fmt: skip
        receipts.append(Receipt(ret, left))
    return receipts


def store_return_record(
    *, line: OrderLine, quantity: int, store: int, reason: str, at: datetime, now: datetime
) -> Return:
    """STRRTN R: ``quantity`` units of ``line`` brought back to the counter of ``store``."""
    return _received_return(
        line=line, quantity=quantity, source=Return.Source.STORE, store=store, reason=reason, at=at, now=now
    )


def _received_return(
    *, line: OrderLine, quantity: int, source: str, store: int, reason: str, at: datetime, now: datetime
) -> Return:
    order = line.order
    ret = Return.objects.create(
        rma=rma_new(source), order=order, client=order.client, source=source, status=Return.Status.RECEIVED,
        reason=reason, store=store, received_at=at, created_at=now, updated_at=now,
    )  # fmt: skip
    ReturnLine.objects.create(ret=ret, order_line=line, quantity=quantity, received_quantity=quantity)
    return ret


def _announcement_withdraw(ret: Return) -> int:
    """The goods are all in before the RTNIMP left: it must not go (the AS400 would expect them again).

    Only a message still waiting and in no file is withdrawn; one a dispatcher already claimed goes,
    and the AS400 answers nothing more for goods it has (no ORDSTS R comes twice for them).
    """
    return OutboxMessage.objects.filter(
        kind=OutboxMessage.Kind.RTNIMP,
        subject=ret.order_id,
        payload__rma=ret.rma,
        state__in=(OutboxMessage.State.PENDING, OutboxMessage.State.DEAD),
        outbound_file__isnull=True,
        sent_at__isnull=True,
    ).update(state=OutboxMessage.State.CANCELLED, last_error="the goods arrived before the announcement left")


def _receipt(receipt: Receipt) -> ReturnReceipt:
    ret = receipt.ret
    return ReturnReceipt(
        rma=ret.rma, store=ret.store, status=ret.status, quantity=receipt.quantity, announced=receipt.announced
    )


class OrdersReturnsReceiver:
    """What the order's lifecycle calls when an event receives returned units (``orders.returns_port``)."""

    def web_return_received(
        self, *, line: OrderLine, quantity: int, at: datetime, now: datetime
    ) -> list[ReturnReceipt]:
        return [_receipt(r) for r in return_receive(line=line, quantity=quantity, at=at, now=now)]

    def store_return_received(
        self, *, line: OrderLine, quantity: int, store: int, reason: str, at: datetime, now: datetime
    ) -> ReturnReceipt:
        ret = store_return_record(line=line, quantity=quantity, store=store, reason=reason, at=at, now=now)
        return _receipt(Receipt(ret, quantity))
