"""Reads of web orders."""

from __future__ import annotations

from django.db.models import Prefetch

from orders.models import Order, OrderCancellation, OrderEvent, OrderLine


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
        )
        .first()
    )
