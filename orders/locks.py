"""The row locks of orders, one helper per table, and the one order they are taken in.

Every write that takes more than one of these rows in a transaction takes them in this order:

1. the order (``orders_locked``): first, always; ORDACK, ORDSTS, a cancellation, a return, staff's
   outbox actions all start by it, so two of them on one order queue there instead of deadlocking;
2. its outbox messages (``order_messages_locked``): the dispatcher's claim skips a locked message,
   and a message it claimed first reads as sent here;
3. its lines (``order_lines_locked``), by primary key (or, across orders, by product and location
   then primary key, as the stock settles them);
4. its cancellation requests (``cancellations_locked``), then its AS400 events
   (``as400_events_locked``).

The returns app locks its own rows after these (``returns.locks``). On SQLite ``select_for_update``
does nothing: the database's single writer serialises the same transactions.
"""

from __future__ import annotations

from django.db.models import QuerySet

from integration.models import OutboxMessage
from orders.models import As400Event, Order, OrderCancellation, OrderLine


def orders_locked() -> QuerySet[Order]:
    return Order.objects.select_for_update()


def order_messages_locked() -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.select_for_update()


def order_lines_locked(*, lines_only: bool = False) -> QuerySet[OrderLine]:
    """``lines_only``: lock the lines and not the rows a ``select_related`` joins (their products)."""
    return (
        OrderLine.objects.select_for_update(of=("self",))
        if lines_only
        else OrderLine.objects.select_for_update()
    )


def cancellations_locked() -> QuerySet[OrderCancellation]:
    return OrderCancellation.objects.select_for_update()


def as400_events_locked() -> QuerySet[As400Event]:
    return As400Event.objects.select_for_update()
