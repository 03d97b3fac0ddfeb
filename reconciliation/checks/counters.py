"""Our own counters against the rows they sum (the stock pairs' ``in_flight`` is in ``stock``).

- each line's shipped and ready units against the AS400 events applied to it (ORDSTS E, L);
- each order's stored status against the one its lines say (``orders.lifecycle.order_status_of``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from orders.lifecycle import line_counts, order_status_of
from orders.models import As400Event, Order, OrderCancellation, OrderLine
from reconciliation.checks.base import Check, Finding, Night, check_register
from reconciliation.models import Discrepancy

Severity = Discrepancy.Severity
Kind = As400Event.Kind
#: Statuses that nothing derives from lines (not at the AS400 yet, or refused by it).
UNDERIVED = (Order.Status.PLACED, Order.Status.SENT, Order.Status.REFUSED)


def _applied(kind: str) -> Coalesce:
    return Coalesce(
        Subquery(
            As400Event.objects.filter(line=OuterRef("pk"), kind=kind)
            .values("line").annotate(u=Sum("applied_quantity")).values("u")[:1]
        ),
        Value(0),
    )  # fmt: skip


class LineEventsCounter(Check):
    code = "counter_line_events"
    title = "Compteurs de ligne différents des évènements AS400"
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        touched = Q(shipped__gt=0) | Q(ready__gt=0) | Exists(
            As400Event.objects.filter(line=OuterRef("pk"), kind__in=(Kind.SHIPPED, Kind.READY), applied_quantity__gt=0)
        )  # fmt: skip
        lines = (
            OrderLine.objects.filter(touched)
            .annotate(e_shipped=_applied(Kind.SHIPPED), e_ready=_applied(Kind.READY))
            .filter(~Q(shipped=F("e_shipped")) | ~Q(ready=F("e_ready")))
            .select_related("order", "product")
            .order_by("order__order_number", "line_number")
        )
        for line in lines:
            yield Finding(
                subject=f"{line.order.order_number}/{line.line_number}",
                ours=f"expédié {line.shipped}, prêt {line.ready}",
                theirs=f"évènements : expédié {line.e_shipped}, prêt {line.e_ready}",
                units=abs(line.shipped - line.e_shipped) + abs(line.ready - line.e_ready),
                order_id=line.order_id, product_id=line.product_id, location_id=line.location_id,
                category_id=line.product.category_id,
                suggestion="Un compteur a été modifié hors des évènements de l'AS400 : vérifier l'historique "
                "de la commande.",
            )  # fmt: skip


class OrderStatusCounter(Check):
    code = "counter_order_status"
    title = "Statut de commande différent de celui de ses lignes"
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        orders = Order.objects.exclude(status__in=UNDERIVED).prefetch_related("lines__product").order_by("pk")
        asked = set(
            OrderCancellation.objects.filter(state=OrderCancellation.State.REQUESTED).values_list("order_id", flat=True)
        )  # fmt: skip
        for order in orders.iterator(chunk_size=2000):
            lines = list(order.lines.all())
            derived = order_status_of(order, line_counts(lines), cancellation_requested=order.pk in asked)
            if derived == order.status:
                continue
            yield Finding(
                subject=order.order_number, ours=order.get_status_display(),
                theirs=f"ses lignes disent {Order.Status(derived).label}", order_id=order.pk,
                category_id=lines[0].product.category_id if lines else None,
                suggestion="Le statut enregistré ne suit pas ses lignes : vérifier l'historique de la commande.",
            )  # fmt: skip


for _check in (LineEventsCounter(), OrderStatusCounter()):
    check_register(_check)
