"""Reads of web orders."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from integration.models import OutboxMessage
from inventory.labels import product_sku
from orders.models import As400Event, Order, OrderCancellation, OrderEvent, OrderLine


def line_sku(line: OrderLine) -> str:
    """The storefront's SKU of a line (its product's mapping), or the AS400 item if unmapped since."""
    return product_sku(line.product)


def message_order(message: OutboxMessage) -> Order:
    """The order an outbox message is about: its ``subject`` is the order's id (the outbox has no
    relation to orders, so ``orders`` writes its messages that way and reads them back by it)."""
    return Order.objects.get(pk=message.subject)


def message_orders(messages: list[OutboxMessage]) -> dict[int, Order]:
    """The orders these messages are about, by id (their ``subject``), in one query."""
    return Order.objects.in_bulk({message.subject for message in messages})


def messages_with_order(messages: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """Messages with their order's number and status (``order_number``, ``order_status``), in the same query."""
    order = Order.objects.filter(pk=OuterRef("subject"))
    return messages.annotate(
        order_number=Subquery(order.values("order_number")[:1]), order_status=Subquery(order.values("status")[:1])
    )


def order_of_client(*, order_number: str, client: str) -> Order | None:
    """The client's order with its lines (product and mapping), history and cancellations, in a fixed number of queries.

    Another client's order, like an unknown number, is None: a client never learns that it exists.
    """
    return (
        Order.objects.filter(order_number=order_number, client=client)
        .prefetch_related(
            Prefetch(
                "lines", queryset=OrderLine.objects.select_related("product__mapping").order_by("line_number")
            ),
            Prefetch("events", queryset=OrderEvent.objects.select_related("line").order_by("at", "id")),
            Prefetch(
                "cancellations", queryset=OrderCancellation.objects.select_related("line").order_by("pk")
            ),
            Prefetch(
                "as400_events",
                queryset=As400Event.objects.filter(kind=As400Event.Kind.SHIPPED, applied_quantity__gt=0)
                .exclude(tracking="")
                .order_by("occurred_at", "id"),
                to_attr="shipments",
            ),
        )
        .first()
    )


def order_as_written(order: Order, *, lines: list[OrderLine], events: list[OrderEvent]) -> Order:
    """The order just placed, holding what :func:`order_of_client` would read of it: its lines (with
    their products, when the caller gave them), its history, no cancellation and no shipment.

    The checkout's answer is built from it without reading back what the checkout just wrote.
    Django's prefetch caches are filled as ``prefetch_related`` fills them, so ``order.lines.all()``
    and the others read them.
    """
    cache: dict[str, Any] = {}
    parts: list[tuple[str, Any, list[Any]]] = [
        ("lines", OrderLine, sorted(lines, key=lambda line: line.line_number)),
        ("events", OrderEvent, list(events)),
        ("cancellations", OrderCancellation, []),
    ]
    for name, model, rows in parts:
        queryset: Any = model.objects.all()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[name] = queryset
    order._prefetched_objects_cache = cache  # type: ignore[attr-defined]
    order.shipments = []  # type: ignore[attr-defined]
    return order


def applied_units(kind: str, *, per: str = "line") -> Coalesce:
    """The units the AS400 events of ``kind`` applied to each line (or order: ``per="order"``), 0
    when none: a subquery to annotate lines (or orders) with."""
    return Coalesce(
        Subquery(
            As400Event.objects.filter(**{per: OuterRef("pk")}, kind=kind)
            .values(per)
            .annotate(units=Sum("applied_quantity"))
            .values("units")[:1]
        ),
        Value(0),
    )


def orders_figured(queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """Orders with what their lines add up to, as the AS400 counts it (one SQL statement):

    - ``line_count``;
    - ``due_units``: units ordered less those cancelled (at the AS400 or at a store counter);
    - ``due_amount``: what is due for them (``Order.total`` keeps the amount first ordered);
    - ``handed_units``: units shipped home or ready in store, less those cancelled at a counter;
    - ``open_units``: units still at the AS400 (neither cancelled, shipped nor ready);
    - ``cancelled_units``.
    """
    lines = OrderLine.objects.filter(order=OuterRef("pk")).values("order")
    zero = Value(0)
    money = DecimalField(max_digits=13, decimal_places=2)

    def total(expression: Any, field: Any = None) -> Coalesce:
        return Coalesce(
            Subquery(lines.annotate(v=Sum(expression)).values("v")[:1], output_field=field or IntegerField()),
            Value(0, output_field=field) if field else zero,
        )

    counter = applied_units(As400Event.Kind.STORE_CANCEL, per="order")
    return (queryset if queryset is not None else Order.objects.all()).annotate(
        line_count=total(Value(1)),
        due_units=total(F("quantity") - F("cancelled")),
        due_amount=total(ExpressionWrapper(F("unit_price") * (F("quantity") - F("cancelled")), output_field=money), money),
        handed_units=total(F("shipped") + F("ready")) - counter,
        open_units=total(F("quantity") - F("cancelled") - F("shipped") - F("ready")) + counter,
        cancelled_units=total(F("cancelled")),
    )  # fmt: skip
