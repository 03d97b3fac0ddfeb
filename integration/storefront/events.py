"""Telling storefronts what happened to their orders: events, and their webhook deliveries.

``event_emit`` is called by the domain (acks, ORDSTS/STRRTN, returns, cancellations) inside the
transaction that makes the change, so an event exists if and only if the change does. It writes
one :class:`StorefrontEvent` (read back by ``GET /api/v1/orders/{n}/events/``) and, for a client
that has a webhook endpoint and subscribed to the type, a pending :class:`WebhookDelivery` that the
delivery task sends (signed, retried with backoff: ``integration.storefront.webhooks``).

A storefront that is not told by our webhooks (Shopify, which is told through its Admin API) has
a *listener* instead: ``event_listener_register(client, listener)`` has ``listener(event, now)``
called in the same transaction, once per event of that client's orders, so that what it queues
(a call to Shopify) exists if and only if the event does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone

from integration.core.wire import wire_datetime
from integration.models import StorefrontClient, StorefrontEvent, WebhookDelivery
from integration.storefront.webhooks import webhooks_kick_after_commit

Type = StorefrontEvent.Type

#: client name -> listeners called with (event, now) inside event_emit's transaction.
LISTENERS: dict[str, list[Callable[[StorefrontEvent, datetime], object]]] = {}


def event_listener_register(client: str, listener: Callable[[StorefrontEvent, datetime], object]) -> None:
    """Have ``listener(event, now)`` called for every event of ``client``'s orders (once per listener)."""
    listeners = LISTENERS.setdefault(client, [])
    if listener not in listeners:
        listeners.append(listener)


class EventSubject(Protocol):
    """What an event says of the order it is about (``orders.models.Order`` is one)."""

    order_number: str
    status: str
    as400_order_number: str
    client: str


def event_emit(
    *, order: EventSubject, type: str, data: dict[str, Any] | None = None, rma: str = "", now: datetime | None = None
) -> StorefrontEvent:
    """Record an event of ``order`` for its storefront client, and queue its webhook if subscribed."""
    if type not in Type.values:
        raise ValueError(f"unknown storefront event type {type!r}")
    now = now or timezone.now()
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": type,
        "created_at": wire_datetime(now),  # UTC with Z, as every datetime of the API
        "data": {
            "order_number": order.order_number,
            "status": order.status,
            "as400_order_number": order.as400_order_number or None,
            **({"rma": rma} if rma else {}),
            **(data or {}),
        },
    }
    event = StorefrontEvent.objects.create(
        event_id=event_id, type=type, client=order.client, order_number=order.order_number, rma=rma,
        payload=payload, created_at=now,
    )  # fmt: skip
    client = StorefrontClient.objects.filter(name=order.client, active=True).exclude(webhook_url="").first()
    if client is not None and (not client.webhook_events or type in client.webhook_events):
        WebhookDelivery.objects.create(
            event=event, client=client, url=client.webhook_url, next_attempt_at=now, created_at=now
        )
        webhooks_kick_after_commit()  # a delivery run as soon as this transaction commits
    for listener in LISTENERS.get(order.client, []):
        listener(event, now)
    return event
