"""One notion of time: a service given ``now`` writes and compares that ``now`` and nothing else.

These tests run on the real clock on purpose (no ``@pytest.mark.clock``): the moment given to the
services is a month away from it, so any timestamp taken from the real clock instead (a model
default, a second read) shows. That was the time bomb of the suite: orders placed "on Tuesday"
got a ``next_attempt_at`` of the real day, and a dispatch "on Tuesday" never saw them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from integration.as400.simulator.engine import Simulator
from integration.models import OutboundFile, OutboxMessage, StorefrontEvent
from integration.outbox.dispatch import outbox_dispatch
from integration.storefront.clients import storefront_client_create, storefront_client_webhook_set
from inventory.models import Reservation
from inventory.reservations import LineRequest, reservation_create
from orders.cancellation import order_cancel
from orders.models import Order, OrderCancellation, OrderEvent
from orders.services import Customer, LineInput, OrderInput, order_place
from tests.factories.orders import as400_orders, warehouse_items

pytestmark = pytest.mark.django_db


def _place(number: str, *, now: datetime | None) -> Order:
    product = warehouse_items(1)[0]
    reservation = reservation_create(lines=[LineRequest(product.item_number, 1)], client="web", now=now)
    order, _ = order_place(
        data=OrderInput(
            order_number=number, reservation_id=str(reservation.pk), delivery="home",
            customer=Customer(last_name="Lefèvre", first_name="Zoë", city="Lyon"),
            lines=[LineInput(product.item_number, 1, product.price)],
        ),
        client="web", now=now,
    )  # fmt: skip
    return order


def test_an_order_placed_at_a_given_now_has_every_timestamp_at_it_and_leaves_at_it(
    simulator: Simulator,
) -> None:
    # given a moment a month before the real clock (a Tuesday 10:00, outside the batch window)
    moment = (timezone.now() - timedelta(days=30)).replace(hour=10, minute=0, second=0, microsecond=0)
    moment = moment - timedelta(days=(moment.weekday() - 1) % 7)

    # when the order is placed then dispatched at that moment
    order = _place("WEB-000001", now=moment)
    report = outbox_dispatch(now=moment)

    # then everything the checkout wrote carries that moment, and the dispatch at it sees the order
    order.refresh_from_db()
    reservation = Reservation.objects.get(pk=order.reservation_id)
    message = OutboxMessage.objects.get(subject=order.pk)
    assert (order.created_at, order.updated_at) == (moment, moment)
    assert (reservation.created_at, reservation.updated_at) == (moment, moment)
    assert {event.at for event in OrderEvent.objects.filter(order=order)} == {moment}
    assert (message.created_at, message.sent_at) == (moment, moment)
    assert OutboundFile.objects.get().created_at == moment
    assert report.files == ["ORDIMP_000001"]
    simulator.import_now()
    assert as400_orders(simulator) == ["WEB-000001"]


def test_a_cancellation_released_at_once_is_closed_when_it_was_made(simulator: Simulator) -> None:
    # given an order still waiting for the dispatcher, placed on the real clock
    order = _place("WEB-000001", now=None)

    # when the customer cancels it (released at once: it never left)
    [cancellation] = order_cancel(order_number=order.order_number, client="web", requested_by="web")

    # then it was made and closed at one moment, never closed before it was made
    cancellation = OrderCancellation.objects.get(pk=cancellation.pk)
    assert cancellation.state == OrderCancellation.State.RELEASED
    assert cancellation.closed_at == cancellation.created_at
    order.refresh_from_db()
    assert order.updated_at == cancellation.created_at


def test_an_event_and_its_webhook_are_due_at_the_moment_given(simulator: Simulator) -> None:
    # given a client with a webhook endpoint, and a moment a week before the real clock
    client, _ = storefront_client_create(name="web", scopes=["orders:write"])
    storefront_client_webhook_set(client=client, url="https://shop.example.com/hooks")
    moment = timezone.now() - timedelta(days=7)
    order = _place("WEB-000001", now=None)

    # when the order is cancelled at that moment
    order_cancel(order_number=order.order_number, client="web", requested_by="web", now=moment)

    # then its storefront event and the webhook delivery are written at it
    event = StorefrontEvent.objects.get(type=StorefrontEvent.Type.ORDER_CANCELLED)
    delivery = event.deliveries.get()
    assert event.created_at == moment
    assert (delivery.created_at, delivery.next_attempt_at) == (moment, moment)
