"""One time zone in everything a storefront receives: every date and time is UTC, with ``Z``.

An order is reserved, placed, partly cancelled, shipped and partly returned through the API; then
every answer about it (order, events, reservation, return, products, availability) and every
webhook body of its events is searched for dates and times.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from integration.models import StorefrontEvent
from integration.storefront.events import event_emit
from integration.storefront.webhooks import webhook_body
from orders.models import Order, OrderLine
from returns.models import Return
from tests.factories.api import CUSTOMER
from tests.factories.catalogue import Catalogue

DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def datetimes(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, text) of a JSON value whose text is a date and time."""
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in datetimes(v, k)]
    if isinstance(value, list):
        return [found for v in value for found in datetimes(v, key)]
    if isinstance(value, str) and DATETIME.match(value):
        return [(key, value)]
    return []


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_every_datetime_the_api_and_its_webhooks_answer_is_utc_with_z(
    catalogue: Catalogue, api: APIClient
) -> None:
    catalogue.product("A", stock={900: 10}, price="9.90")
    answers: list[Any] = []
    reservation = ok(
        api.post("/api/v1/reservations/", {"lines": [{"sku": "A", "quantity": 3}]}, format="json")
    )
    order = {
        "order_number": "WEB-1", "reservation": reservation["id"], "delivery": "home", "customer": CUSTOMER,
        "lines": [{"sku": "A", "quantity": 3, "unit_price": "9.90"}],
    }  # fmt: skip
    answers.append(ok(api.post("/api/v1/orders/", order, format="json")))
    cancel = {"lines": [{"line_number": 1, "quantity": 1}]}
    answers.append(ok(api.post("/api/v1/orders/WEB-1/cancel/", cancel, format="json")))  # released at once
    placed = Order.objects.get()
    OrderLine.objects.filter(order=placed).update(shipped=2)
    Order.objects.filter(pk=placed.pk).update(status=Order.Status.SHIPPED)
    placed.refresh_from_db()
    event_emit(order=placed, type=StorefrontEvent.Type.ORDER_SHIPPED, now=timezone.localtime())  # Paris time
    ret = {"order_number": "WEB-1", "lines": [{"line_number": 1, "quantity": 1}], "reason": "TAIL"}
    rma = ok(api.post("/api/v1/returns/", ret, format="json"))["rma"]
    Return.objects.update(announced_at=timezone.localtime(), received_at=timezone.localtime())

    answers += [
        ok(api.get("/api/v1/orders/WEB-1/")),
        ok(api.get("/api/v1/orders/WEB-1/events/")),
        ok(api.get(f"/api/v1/reservations/{reservation['id']}/")),
        ok(api.get(f"/api/v1/returns/{rma}/")),
        ok(api.get("/api/v1/returns/", {"order_number": "WEB-1"})),
        ok(api.get("/api/v1/products/A/")),
        ok(api.get("/api/v1/products/")),
        ok(api.get("/api/v1/availability/", {"sku": "A"})),
        reservation,
    ]
    answers += [json.loads(webhook_body(e.payload, timestamp=1)) for e in StorefrontEvent.objects.all()]
    found = [pair for answer in answers for pair in datetimes(answer)]

    assert {key for key, _ in found} >= {
        "expires_at", "created_at", "updated_at", "at", "closed_at", "as_of", "announced_at", "received_at",
    }  # fmt: skip
    assert StorefrontEvent.objects.count() >= 2  # cancelled, shipped
    not_utc = [(key, text) for key, text in found if not text.endswith("Z")]
    assert not not_utc
    assert all(datetime.fromisoformat(text).utcoffset().total_seconds() == 0 for _, text in found)  # type: ignore[union-attr]
