"""Our own counters against the rows they sum (the stock pairs' ``in_flight`` is in ``stock``).

- each line's shipped and ready units against the AS400 events applied to it (ORDSTS E, L);
- each order's stored status against the one its lines say (``orders.lifecycle.order_status_of``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.lifecycle import LineCounts, order_status_of
from orders.models import As400Event, Order, OrderCancellation, OrderLine
from orders.selectors import applied_units
from reconciliation.checks.base import Check, Finding, Night, check_register
from reconciliation.models import Discrepancy

Severity = Discrepancy.Severity
Kind = As400Event.Kind
#: Statuses that nothing derives from lines (not at the AS400 yet, or refused by it).
UNDERIVED = (Order.Status.PLACED, Order.Status.SENT, Order.Status.REFUSED)
CHUNK = 5000


class LineEventsCounter(Check):
    code = "counter_line_events"
    title = _("Line counters differ from the AS400 events")
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        touched = Q(shipped__gt=0) | Q(ready__gt=0) | Exists(
            As400Event.objects.filter(line=OuterRef("pk"), kind__in=(Kind.SHIPPED, Kind.READY), applied_quantity__gt=0)
        )  # fmt: skip
        lines = (
            OrderLine.objects.filter(touched)
            .annotate(e_shipped=applied_units(Kind.SHIPPED), e_ready=applied_units(Kind.READY))
            .filter(~Q(shipped=F("e_shipped")) | ~Q(ready=F("e_ready")))
            .select_related("order", "product")
            .order_by("order__order_number", "line_number")
        )
        for line in lines:
            yield Finding(
                subject=f"{line.order.order_number}/{line.line_number}",
                ours=gettext("shipped {shipped}, ready {ready}").format(shipped=line.shipped, ready=line.ready),
                theirs=gettext("events: shipped {shipped}, ready {ready}").format(
                    shipped=line.e_shipped, ready=line.e_ready
                ),
                units=abs(line.shipped - line.e_shipped) + abs(line.ready - line.e_ready),
                order_id=line.order_id, product_id=line.product_id, location_id=line.location_id,
                category_id=line.product.category_id,
                suggestion=gettext("A counter was changed outside the AS400's events: check the order's history."),
            )  # fmt: skip


class OrderStatusCounter(Check):
    code = "counter_order_status"
    title = _("Order status differs from its lines'")
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        # Plain rows, not model instances (100,000 orders, 200,000 lines a night): three queries per
        # chunk of orders, the derivation itself is orders.lifecycle's, unchanged.
        asked = set(
            OrderCancellation.objects.filter(state=OrderCancellation.State.REQUESTED).values_list("order_id", flat=True)
        )  # fmt: skip
        orders = (
            Order.objects.exclude(status__in=UNDERIVED)
            .order_by("pk")
            .values_list("pk", "order_number", "status")
        )
        chunk: list[tuple[int, str, str]] = []
        for row in orders.iterator(chunk_size=CHUNK):
            chunk.append(row)
            if len(chunk) == CHUNK:
                yield from self._derive(chunk, asked)
                chunk = []
        if chunk:
            yield from self._derive(chunk, asked)

    @staticmethod
    def _derive(orders: list[tuple[int, str, str]], asked: set[int]) -> Iterable[Finding]:
        ids = [pk for pk, _, _ in orders]
        lines: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        fields = ("order_id", "pk", "quantity", "picked", "shipped", "ready", "cancelled", "returned",
                  "product__category_id")  # fmt: skip
        for row in (
            OrderLine.objects.filter(order_id__in=ids)
            .order_by("order_id", "line_number")
            .values_list(*fields)
        ):
            lines[row[0]].append(row)
        counter = dict(
            As400Event.objects.filter(order_id__in=ids, kind=Kind.STORE_CANCEL, line__isnull=False)
            .values("line_id").annotate(u=Sum("applied_quantity")).values_list("line_id", "u")
        )  # fmt: skip
        for pk, number, status in orders:
            rows = lines.get(pk, [])
            counts = [LineCounts(q, p, s, r, c, ret, int(counter.get(line, 0) or 0))
                      for _, line, q, p, s, r, c, ret, _ in rows]  # fmt: skip
            derived = order_status_of(_Stored(status), counts, cancellation_requested=pk in asked)  # type: ignore[arg-type]
            if derived == status:
                continue
            yield Finding(
                subject=number, ours=str(Order.Status(status).label),
                theirs=gettext("its lines say {status}").format(status=Order.Status(derived).label), order_id=pk,
                category_id=rows[0][8] if rows else None,
                suggestion=gettext("The recorded status does not follow its lines: check the order's history."),
            )  # fmt: skip


@dataclass(frozen=True)
class _Stored:
    """What ``order_status_of`` reads of an order: its stored status."""

    status: str


for _check in (LineEventsCounter(), OrderStatusCounter()):
    check_register(_check)
