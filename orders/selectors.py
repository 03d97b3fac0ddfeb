"""Reads of web orders."""

from __future__ import annotations

from django.db.models import Prefetch

from inventory.models import Product
from orders.models import As400Event, Order, OrderCancellation, OrderEvent, OrderLine


def line_sku(line: OrderLine) -> str:
    """The storefront's SKU of a line (its product's mapping), or the AS400 item if unmapped since."""
    try:
        return line.product.mapping.sku
    except Product.mapping.RelatedObjectDoesNotExist:
        return line.product.item_number


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
