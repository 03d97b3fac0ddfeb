"""Our web orders against the AS400's picture of them (the night's full WEBORD).

Compared only what both sides could know when WEBORD was taken: an order placed, acknowledged or
changed here after that moment, or with an AS400 event dated after it, is left for the next night.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from integration.models import OutboxMessage
from orders.models import As400Event, Order, OrderLine
from orders.selectors import orders_figured
from reconciliation.checks.base import Check, Finding, Night, check_register
from reconciliation.models import Discrepancy, WebOrderPicture

Severity = Discrepancy.Severity
S = Order.Status
#: An ORDIMP sent this long before WEBORD was taken has had time to be imported and answered.
ANSWER_GRACE = timedelta(hours=1)
NOT_AT_THE_AS400 = (S.PLACED, S.REFUSED)


def _picture(field: str) -> Subquery:
    return Subquery(WebOrderPicture.objects.filter(order_number=OuterRef("order_number")).values(field)[:1])


def _compared(at: datetime) -> QuerySet[Order]:
    """Orders the AS400 had acknowledged when WEBORD was taken, and that nothing moved since."""
    later_event = As400Event.objects.filter(order=OuterRef("pk"), occurred_at__gt=at)
    acked_later = OrderLine.objects.filter(order=OuterRef("pk"), acked_at__gt=at)
    return (
        Order.objects.exclude(status__in=NOT_AT_THE_AS400)
        .exclude(as400_order_number="")
        .filter(created_at__lte=at, updated_at__lte=at)
        .exclude(Exists(later_event))
        .exclude(Exists(acked_later))
    )


def _category(order: Order) -> int | None:
    line = order.lines.select_related("product").order_by("line_number").first()
    return line.product.category_id if line else None


def _finding(order: Any, **values: Any) -> Finding:
    return Finding(
        subject=order.order_number, order_id=order.pk, category_id=_category(order), file="WEBORD", **values
    )  # type: ignore[arg-type]


class OrderMissingAtAs400(Check):
    code = "order_missing_at_as400"
    title = _("Accepted order missing from the AS400")
    severity = Severity.HIGH
    needs = ("WEBORD",)

    def find(self, night: Night) -> Iterable[Finding]:
        at = night.taken_at("WEBORD")
        known = WebOrderPicture.objects.filter(order_number=OuterRef("order_number"))
        figured: Iterable[Any] = orders_figured(_compared(at).exclude(Exists(known))).exclude(
            status=S.CANCELLED
        )
        for order in figured:
            yield _finding(
                order,
                ours=gettext("accepted (AS400 {number}), {units} open units").format(
                    number=order.as400_order_number, units=order.open_units
                ),
                theirs=gettext("missing from WEBORD"),
                units=order.open_units,
                amount=order.due_amount,
                suggestion=gettext(
                    "The AS400 lost this order: send it again under the same number (it answers D if it "
                    "still has it)."
                ),
            )


class OrderNotAcknowledged(Check):
    code = "order_not_acknowledged"
    title = _("Sent order never acknowledged")
    severity = Severity.HIGH
    needs = ("WEBORD",)

    def find(self, night: Night) -> Iterable[Finding]:
        at = night.taken_at("WEBORD")
        sent = Order.objects.filter(
            status__in=(S.SENT, S.CANCELLATION_REQUESTED),
            as400_order_number="",
        ).filter(
            Exists(
                OutboxMessage.objects.filter(
                    subject=OuterRef("pk"), kind=OutboxMessage.Kind.ORDIMP, sent_at__lte=at - ANSWER_GRACE
                )
            )
        )
        answered: Iterable[Any] = orders_figured(sent).annotate(theirs=_picture("as400_order_number"))
        for order in answered:
            known = order.theirs is not None
            yield _finding(
                order,
                ours=gettext("sent, no ORDACK"),
                theirs=(
                    gettext("known to the AS400 (order {number})").format(number=order.theirs)
                    if known
                    else gettext("missing from WEBORD")
                ),
                units=order.open_units,
                amount=order.due_amount,
                suggestion=(
                    gettext(
                        "The AS400 has the order but its acknowledgement was lost: send it again, it answers D "
                        "with its number."
                    )
                    if known
                    else gettext("The AS400 never read this order: send it again under the same number.")
                ),
            )


class OrderUnknownHere(Check):
    code = "order_unknown_here"
    title = _("AS400 order unknown here")
    severity = Severity.HIGH
    needs = ("WEBORD",)

    def find(self, night: Night) -> Iterable[Finding]:
        ours = Order.objects.filter(order_number=OuterRef("order_number"))
        unknown = list(
            WebOrderPicture.objects.exclude(Exists(ours)).exclude(status="A").order_by("order_number")
        )
        twins = self._twins(unknown)
        for row in unknown:
            twin = twins.get(row.order_number)
            yield Finding(
                subject=row.order_number,
                ours=gettext("unknown"),
                theirs=gettext("AS400 order {number}, {units} units, {total} €").format(
                    number=row.as400_order_number, units=row.ordered, total=row.total
                ),
                units=row.ordered - row.shipped,
                amount=row.total,
                order_id=twin[0] if twin else None,
                file="WEBORD",
                suggestion=(
                    gettext(
                        "Looks like order {order} imported a second time: cancel it on the AS400, then ignore "
                        "this discrepancy with a note."
                    ).format(order=twin[1])
                    if twin
                    else gettext("An order the site does not know: check on the AS400 where it comes from.")
                ),
            )

    @staticmethod
    def _twins(rows: list[WebOrderPicture]) -> dict[str, tuple[int, str]]:
        """Per unknown order, ours that it looks like (same lines, units, amount, within a day of
        its date): a double import. One query over the days concerned, whatever their number."""
        if not rows:
            return {}
        days = {
            d + timedelta(days=k) for d in (r.ordered_on for r in rows if r.ordered_on) for k in (-1, 0, 1)
        }
        candidates: Any = orders_figured(Order.objects.exclude(status__in=NOT_AT_THE_AS400))
        if all(r.ordered_on for r in rows):
            candidates = candidates.filter(created_at__date__in=sorted(days))
        shape: dict[tuple[int, int, Decimal], list[tuple[int, str, date]]] = defaultdict(list)
        for pk, number, created, lines, units, amount in candidates.order_by("-created_at").values_list(
            "pk", "order_number", "created_at", "line_count", "due_units", "due_amount"
        ):
            shape[(lines, units, Decimal(amount))].append((pk, number, created.date()))
        twins = {}
        for r in rows:
            for pk, number, created in shape.get((r.line_count, r.ordered, Decimal(r.total)), []):
                if r.ordered_on is None or abs((created - r.ordered_on).days) <= 1:
                    twins[r.order_number] = (pk, number)  # the newest first
                    break
        return twins


def expected_status() -> Case:
    """WOSTAT as the AS400 would derive it from our lines (``orders_figured``'s annotations)."""
    return Case(
        When(open_units__gt=0, then=Value("O")),
        When(handed_units=0, then=Value("A")),
        When(cancelled_units=0, then=Value("E")),
        default=Value("S"),
        output_field=CharField(),
    )


#: WEBORD's WOSTAT as staff read it (an order's: "commande" is feminine in French).
STATUS_WORDS = {
    "O": pgettext_lazy("order", "open"), "E": pgettext_lazy("order", "shipped"),
    "A": pgettext_lazy("order", "cancelled"), "S": pgettext_lazy("order", "settled"),
}  # fmt: skip


class _AgainstPicture(Check):
    """Orders present on both sides whose figures differ (``differs``, on ``orders_figured``)."""

    needs = ("WEBORD",)
    differs: Q

    def compared(self, night: Night) -> Iterable[Any]:  # Orders with their figures and WEBORD's
        known = WebOrderPicture.objects.filter(order_number=OuterRef("order_number"))
        return (
            orders_figured(_compared(night.taken_at("WEBORD")).filter(Exists(known)))
            .annotate(
                w_status=_picture("status"), w_ordered=_picture("ordered"), w_shipped=_picture("shipped"),
                w_lines=_picture("line_count"), w_total=_picture("total"), expected=expected_status(),
            )
            .filter(self.differs)
        )  # fmt: skip


class OrderStatusDiffers(_AgainstPicture):
    code = "order_status_differs"
    title = _("Different status on the AS400")
    severity = Severity.MEDIUM
    accept = _("Apply the shipment the AS400 shows (if every unit is shipped).")
    differs = ~Q(w_status=F("expected"))

    def find(self, night: Night) -> Iterable[Finding]:
        for order in self.compared(night):
            theirs = str(STATUS_WORDS.get(order.w_status, order.w_status))
            if order.w_status == "A":
                hint = gettext("The AS400 cancelled it: cancel it here too.")
            elif order.w_status in ("E", "S") and order.w_shipped >= order.due_units:
                hint = gettext("The AS400 shipped it without saying so (ORDSTS missing): accept its value.")
            else:
                hint = gettext("Check the order on the AS400, then cancel it or ignore the discrepancy with a note.")
            yield _finding(
                order,
                ours=f"{STATUS_WORDS[order.expected]} ({order.get_status_display()})",
                theirs=theirs,
                units=order.open_units,
                amount=order.due_amount,
                suggestion=hint,
            )


class OrderQuantitiesDiffer(_AgainstPicture):
    code = "order_quantities_differ"
    title = _("Ordered or shipped quantities differ")
    severity = Severity.MEDIUM
    accept = _("Apply the shipment the AS400 shows (if every unit is shipped).")
    differs = ~Q(w_ordered=F("due_units")) | ~Q(w_shipped=F("handed_units"))

    def find(self, night: Night) -> Iterable[Finding]:
        for order in self.compared(night):
            shipped_gap = order.w_shipped - order.handed_units
            yield _finding(
                order,
                ours=gettext("ordered {ordered}, shipped {shipped}").format(
                    ordered=order.due_units, shipped=order.handed_units
                ),
                theirs=gettext("ordered {ordered}, shipped {shipped}").format(
                    ordered=order.w_ordered, shipped=order.w_shipped
                ),
                difference=shipped_gap or order.w_ordered - order.due_units,
                units=abs(shipped_gap) + abs(order.w_ordered - order.due_units),
                amount=order.due_amount,
                suggestion=(
                    gettext("The AS400 shipped without saying so (ORDSTS missing): accept its value.")
                    if shipped_gap > 0 and order.w_ordered == order.due_units
                    else gettext("Check the lines on the AS400; cancel what will not leave.")
                ),
            )


class OrderLinesDiffer(_AgainstPicture):
    code = "order_lines_differ"
    title = _("Different number of lines")
    severity = Severity.MEDIUM
    differs = ~Q(w_lines=F("line_count"))

    def find(self, night: Night) -> Iterable[Finding]:
        for order in self.compared(night):
            yield _finding(
                order, ours=gettext("{count} lines").format(count=order.line_count),
                theirs=gettext("{count} lines").format(count=order.w_lines),
                difference=order.w_lines - order.line_count, amount=order.due_amount,
                suggestion=gettext("A line was lost or added by the import: check on the AS400."),
            )  # fmt: skip


class OrderTotalDiffers(_AgainstPicture):
    code = "order_total_differs"
    title = _("Different amount due")
    severity = Severity.MEDIUM
    differs = ~Q(w_total=F("due_amount"))

    def find(self, night: Night) -> Iterable[Finding]:
        for order in self.compared(night):
            gap = Decimal(order.w_total) - Decimal(order.due_amount)
            yield _finding(
                order, ours=gettext("{amount} € due").format(amount=order.due_amount), theirs=f"{order.w_total} €",
                difference=gap, amount=abs(gap),
                suggestion=gettext("The AS400 does not bill what the site is owed: check the cancellations and prices."),
            )  # fmt: skip


for _check in (
    OrderMissingAtAs400(), OrderNotAcknowledged(), OrderUnknownHere(), OrderStatusDiffers(),
    OrderQuantitiesDiffer(), OrderLinesDiffer(), OrderTotalDiffers(),
):  # fmt: skip
    check_register(_check)
