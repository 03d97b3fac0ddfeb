"""Reads of returns: what a client's order can still return, and its returns, web and store alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from orders.models import As400Event, Order, OrderLine
from returns.models import Return, ReturnLine

MAX_PAGE_SIZE = 100

#: A return whose goods are still expected: its units are spoken for until they arrive.
OPEN_STATUSES = (Return.Status.REQUESTED, Return.Status.ANNOUNCED, Return.Status.PARTIALLY_RECEIVED)


@dataclass(frozen=True)
class ReturnableLine:
    line: OrderLine  # with its product
    units: int  # what a new return may still ask for


def returnable_of_order(*, order_id: int) -> dict[int, ReturnableLine]:
    """Each line of the order (by line number) and the units a new return may ask for.

    Shipped or made ready, less the ready units cancelled at a store counter (STRRTN C: the customer
    never had them), less returned (ORDSTS R, STRRTN R), less the units of open returns not received
    yet. One statement reads the counters and the open returns, so that a receipt applied meanwhile
    (which moves units from one to the other) is seen whole or not at all.
    """
    open_units = (
        ReturnLine.objects.filter(order_line=OuterRef("pk"), ret__status__in=OPEN_STATUSES)
        .values("order_line")
        .annotate(units=Sum(F("quantity") - F("received_quantity")))
        .values("units")
    )
    counter_cancelled = (
        As400Event.objects.filter(line=OuterRef("pk"), kind=As400Event.Kind.STORE_CANCEL)
        .values("line")
        .annotate(units=Sum("applied_quantity"))
        .values("units")
    )
    lines = (
        OrderLine.objects.filter(order_id=order_id)
        .select_related("product")
        .annotate(
            open_units=Coalesce(Subquery(open_units, output_field=IntegerField()), 0),
            counter_cancelled=Coalesce(Subquery(counter_cancelled, output_field=IntegerField()), 0),
        )
        .order_by("line_number")
    )
    units: dict[int, ReturnableLine] = {}
    for line in lines:
        extra: Any = line  # with its annotations
        handed = line.shipped + line.ready - extra.counter_cancelled
        units[line.line_number] = ReturnableLine(line, max(0, handed - line.returned - extra.open_units))
    return units


def _with_lines(returns: QuerySet[Return]) -> QuerySet[Return]:
    return returns.select_related("order").prefetch_related(
        Prefetch(
            "lines",
            queryset=ReturnLine.objects.select_related("order_line__product__mapping").order_by(
                "order_line__line_number"
            ),
        )
    )


def return_of_client(*, rma: str, client: str) -> Return | None:
    """The return with its lines, if it is of one of the client's orders; None otherwise (also another
    client's: a client never learns that it exists)."""
    return _with_lines(Return.objects.filter(rma=rma, order__client=client)).first()


@dataclass(frozen=True)
class ReturnPage:
    returns: list[Return]
    more: bool


def returns_of_order(*, order_number: str, client: str, page: int = 1, limit: int = 50) -> ReturnPage | None:
    """One page of the returns of the client's order, web and store alike, newest first; None when the
    client has no such order."""
    order_id = (
        Order.objects.filter(order_number=order_number, client=client).values_list("pk", flat=True).first()
    )
    if order_id is None:
        return None
    start = (page - 1) * limit
    rows = list(
        _with_lines(Return.objects.filter(order_id=order_id)).order_by("-created_at", "-id")[
            start : start + limit + 1
        ]
    )
    return ReturnPage(rows[:limit], more=len(rows) > limit)
