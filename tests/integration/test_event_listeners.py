"""A storefront told through its own API (Shopify) listens to its orders' events inside their transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.db import transaction

from integration.models import StorefrontEvent
from integration.storefront import events
from integration.storefront.events import event_emit, event_listener_register

pytestmark = pytest.mark.django_db


@dataclass
class Subject:
    order_number: str
    client: str
    status: str = "shipped"
    as400_order_number: str = ""


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, datetime]]:
    monkeypatch.setattr(events, "LISTENERS", {})
    got: list[tuple[str, str, datetime]] = []
    event_listener_register("shop-a", lambda event, now: got.append((event.type, event.order_number, now)))
    return got


def test_a_listener_hears_the_events_of_its_client_only(heard: list[tuple[str, str, datetime]]) -> None:
    # given a listener for client shop-a
    # when an event is emitted for an order of shop-a and one for another client
    event_emit(order=Subject("W1", "shop-a"), type=StorefrontEvent.Type.ORDER_SHIPPED)
    event_emit(order=Subject("W2", "next-store"), type=StorefrontEvent.Type.ORDER_SHIPPED)

    # then it heard shop-a's, once
    assert [(t, n) for t, n, _ in heard] == [("order.shipped", "W1")]


def test_what_a_listener_does_is_undone_with_the_event(heard: list[tuple[str, str, datetime]]) -> None:
    # given a listener that writes (here: a second event) in the emitter's transaction
    def write(event: StorefrontEvent, now: datetime) -> None:
        StorefrontEvent.objects.create(
            event_id=uuid.uuid4(), type=event.type, client="log", order_number=event.order_number
        )

    event_listener_register("shop-a", write)

    # when the emitting transaction fails after the event
    def change() -> None:
        with transaction.atomic():
            event_emit(order=Subject("W3", "shop-a"), type=StorefrontEvent.Type.ORDER_CANCELLED)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change()

    # then the listener had written, and neither the event nor what it wrote exists
    assert [n for _, n, _ in heard] == ["W3"]
    assert not StorefrontEvent.objects.filter(order_number="W3").exists()


def test_registering_twice_calls_once(heard: list[tuple[str, str, datetime]]) -> None:
    # given the same listener registered twice
    listener = events.LISTENERS["shop-a"][0]
    event_listener_register("shop-a", listener)

    # when one event is emitted
    event_emit(order=Subject("W4", "shop-a"), type=StorefrontEvent.Type.ORDER_PICKED)

    # then it is heard once
    assert len(heard) == 1
