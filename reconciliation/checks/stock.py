"""Stock against the night's full STKBAL (kept per pair in ``StockPicture`` when it was applied).

- the web orders the AS400 accepted before the extract and has not shipped must be inside its
  SBQRS for their pair: a shortfall means it lost them, or never booked them;
- lines acknowledged before the extract must no longer count in flight (the extract counts them);
- the day's drift: what our projection said each pair held just before the full extract, against
  what the extract says; per category, the units the site showed that did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.core.admin_formats import paris
from inventory.models import Category, Product, StockLevel
from orders.models import As400Event, Order, OrderLine
from orders.selectors import applied_units
from reconciliation.checks.base import Check, Finding, Night, check_register
from reconciliation.models import Discrepancy, StockPicture

Severity = Discrepancy.Severity
#: Orders whose accepted units the AS400 holds in SBQRS until they ship.
HELD = (Order.Status.PLACED, Order.Status.SENT, Order.Status.REFUSED, Order.Status.CANCELLED)


class PromisedShort(Check):
    code = "stock_promised_short"
    title = _("Accepted orders missing from the AS400's promised stock")
    severity = Severity.HIGH
    needs = ("STKBAL",)

    def find(self, night: Night) -> Iterable[Finding]:
        at = night.taken_at("STKBAL")
        counter = applied_units(As400Event.Kind.STORE_CANCEL)
        held = Subquery(
            StockPicture.objects.filter(product_id=OuterRef("product_id"), location_id=OuterRef("location_id"))
            .values("promised")[:1]
        )  # fmt: skip
        short = (
            OrderLine.objects.filter(acked_at__isnull=False, acked_at__lte=at)
            .exclude(order__status__in=HELD)
            .exclude(order__as400_order_number="")
            .annotate(open=F("quantity") - F("cancelled") - F("shipped") - F("ready") + counter)
            .filter(open__gt=0)
            .values("product_id", "location_id")
            .annotate(units=Sum("open"), held=Coalesce(held, Value(0)))
            .filter(units__gt=F("held"))
            .order_by("product_id", "location_id")
        )
        rows = list(short)  # one statement: the grouped open lines against the pairs' SBQRS
        products = {p.pk: p for p in Product.objects.filter(pk__in={row["product_id"] for row in rows})}
        for row in rows:
            product = products[row["product_id"]]
            gap = row["units"] - row["held"]
            yield Finding(
                subject=f"{product.item_number}@{row['location_id']:03d}",
                ours=gettext("{units} units accepted, not shipped").format(units=row["units"]),
                theirs=f"SBQRS {row['held']}",
                difference=gap,
                units=gap,
                product_id=product.pk,
                location_id=row["location_id"],
                category_id=product.category_id,
                file="STKBAL",
                suggestion=gettext(
                    "The AS400 does not hold these units: look for the lost order (the discrepancy "
                    "“Accepted order missing from the AS400”) and send it again."
                ),
            )


class InFlightAfterAck(Check):
    code = "stock_in_flight_after_ack"
    title = _("Units still \"in flight\" after the acknowledgement")
    severity = Severity.MEDIUM
    needs = ("STKBAL",)
    accept = _("Settle the units in flight: the full extract counts them already.")

    def find(self, night: Night) -> Iterable[Finding]:
        at = night.taken_at("STKBAL")
        lines = (
            OrderLine.objects.filter(in_flight__gt=0, acked_at__isnull=False, acked_at__lte=at)
            .select_related("order", "product")
            .order_by("order__order_number", "line_number")
        )
        for line in lines:
            yield Finding(
                subject=f"{line.order.order_number}/{line.line_number}",
                ours=gettext("{units} in flight").format(units=line.in_flight),
                theirs=gettext("acknowledged on {at}, counted by STKBAL").format(at=paris(line.acked_at)),
                units=line.in_flight,
                order_id=line.order_id,
                product_id=line.product_id,
                location_id=line.location_id,
                category_id=line.product.category_id,
                file="STKBAL",
                suggestion=gettext("Accept the AS400's value: these units are counted twice."),
            )


def _free(on_hand: str, promised: str) -> Greatest:
    return Greatest(F(on_hand) - F(promised), Value(0))


def drift_by_category() -> dict[int | None, int]:
    """Per category: units the projection showed free that the full extract did not hold (one statement)."""
    over = Greatest(
        _free("projected_on_hand", "projected_promised") - _free("on_hand", "promised"), Value(0),
        output_field=IntegerField(),
    )  # fmt: skip
    category = Subquery(Product.objects.filter(pk=OuterRef("product_id")).values("category_id")[:1])
    rows = (
        StockPicture.objects.annotate(over=over, category=category)
        .filter(over__gt=0)
        .values("category")
        .annotate(units=Sum("over"))
    )
    return {row["category"]: int(row["units"]) for row in rows}


class DayDrift(Check):
    code = "stock_drift"
    title = _("The day's stock drift")
    severity = Severity.LOW
    needs = ("STKBAL",)
    accept = _("Take note: the full extract has already corrected the stock.")

    def find(self, night: Night) -> Iterable[Finding]:
        categories = {c.pk: c for c in Category.objects.all()}
        for category_id, units in sorted(drift_by_category().items(), key=lambda kv: -kv[1]):
            category = categories.get(category_id) if category_id else None
            name = str(category) if category else gettext("no category")
            yield Finding(
                subject=category.family_code if category else "-",
                ours=gettext("{units} units shown").format(units=units),
                theirs=gettext("missing from the full extract"),
                difference=units,
                units=units,
                category_id=category_id,
                file="STKBAL",
                suggestion=gettext(
                    "{category}: the site showed {units} units that did not exist (missed deltas or store "
                    "sales not reported). Take note; if it happens again, raise the safety stock."
                ).format(category=name, units=units),
            )


class InFlightCounter(Check):
    code = "counter_in_flight"
    title = _("\"In flight\" counter differs from its lines")
    severity = Severity.HIGH
    accept = _("Recount the counter from the order lines.")

    def find(self, night: Night) -> Iterable[Finding]:
        lines = Coalesce(
            Subquery(
                OrderLine.objects.filter(product=OuterRef("product_id"), location=OuterRef("location_id"))
                .values("product", "location").annotate(u=Sum("in_flight")).values("u")[:1]
            ),
            Value(0),
        )  # fmt: skip
        holding = OrderLine.objects.filter(
            product=OuterRef("product_id"), location=OuterRef("location_id"), in_flight__gt=0
        )
        wrong = (
            # Only the pairs that hold something in flight, on either side (not 1.55 million subqueries).
            StockLevel.objects.filter(~Q(in_flight=0) | Exists(holding))
            .annotate(lines=lines)
            .filter(~Q(in_flight=F("lines")))
            .select_related("product")
            .order_by("product_id", "location_id")
        )
        for level in wrong:
            yield Finding(
                subject=f"{level.product.item_number}@{level.location_id:03d}",
                ours=gettext("in flight {units}").format(units=level.in_flight),
                theirs=gettext("lines {units}").format(units=level.lines),
                difference=level.in_flight - level.lines,
                units=abs(level.in_flight - level.lines),
                product_id=level.product_id,
                location_id=level.location_id,
                category_id=level.product.category_id,
                suggestion=gettext("Accept: the counter is recounted from the lines."),
            )


for _check in (PromisedShort(), InFlightAfterAck(), DayDrift(), InFlightCounter()):
    check_register(_check)
