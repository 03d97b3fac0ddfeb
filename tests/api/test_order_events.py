"""GET /api/v1/orders/{order_number}/events/: an order's storefront events, polled with a cursor.

Orders are placed through the API; their events are emitted as the domain emits them
(``event_emit``, in the transaction that changes the order). The webhook bodies compared with the
polled events come from a real HTTP receiver.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from rest_framework.test import APIClient

from integration.models import StorefrontEvent
from integration.storefront.clients import storefront_client_webhook_set
from integration.storefront.events import event_emit
from integration.storefront.webhooks import webhooks_deliver
from orders.models import Order
from tests.factories.api import MakeApi, error_of
from tests.factories.catalogue import Catalogue
from tests.integration.webhook_receiver import running_receiver

pytestmark = pytest.mark.django_db

Type = StorefrontEvent.Type
CUSTOMER = {"last_name": "Lefèvre", "first_name": "Hélène", "city": "Lyon"}


def placed(api: APIClient, number: str) -> Order:
    """Given: an order placed through the API by this client (1 unit of A)."""
    reservation = api.post("/api/v1/reservations/", {"lines": [{"sku": "A", "quantity": 1}]}, format="json")
    assert reservation.status_code == 201, reservation.content
    body = {
        "order_number": number, "reservation": reservation.json()["id"], "delivery": "home",
        "customer": CUSTOMER, "lines": [{"sku": "A", "quantity": 1, "unit_price": "9.90"}],
    }  # fmt: skip
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.content
    return Order.objects.get(order_number=number)


@pytest.fixture
def shop(catalogue: Catalogue, api: APIClient) -> APIClient:
    catalogue.product("A", stock={900: 50}, price="9.90")
    return api


def events_url(number: str) -> str:
    return f"/api/v1/orders/{number}/events/"


def walk(api: APIClient, number: str, limit: int) -> tuple[list[dict[str, Any]], str | None, int]:
    """Every event of the order, page after page: (events, the last cursor, pages read)."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": limit, **({"after": cursor} if cursor else {})}
        response = api.get(events_url(number), query)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"events", "next_cursor", "has_more"}
        pages += 1
        seen += body["events"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor, pages


def test_the_cursor_walks_every_event_of_the_order_oldest_first_without_gaps_or_repeats(
    shop: APIClient,
) -> None:
    order, other = placed(shop, "WEB-1"), placed(shop, "WEB-2")
    emitted = []
    for i in range(7):  # another order's events in between: the ids of this one are not contiguous
        emitted.append(event_emit(order=order, type=Type.ORDER_SHIPPED, data={"tracking": f"T{i}"}))
        event_emit(order=other, type=Type.ORDER_PICKED)

    events, cursor, pages = walk(shop, "WEB-1", limit=3)

    assert [e["id"] for e in events] == [str(e.event_id) for e in emitted]
    assert [e["data"]["tracking"] for e in events] == [f"T{i}" for i in range(7)]
    assert pages == 3  # 3 + 3 + 1
    assert events == [e.payload for e in emitted]  # each exactly its payload
    # Nothing new: the same cursor comes back, to ask again later; then only what is new.
    again = shop.get(events_url("WEB-1"), {"after": cursor}).json()
    assert again == {"events": [], "next_cursor": cursor, "has_more": False}
    newer = event_emit(
        order=order, type=Type.ORDER_RETURNED, data={"lines": [{"line_number": 1, "quantity": 1}]}
    )
    after = shop.get(events_url("WEB-1"), {"after": cursor}).json()
    assert [e["id"] for e in after["events"]] == [str(newer.event_id)]
    assert after["has_more"] is False


def test_an_order_without_events_has_no_cursor_yet(shop: APIClient) -> None:
    placed(shop, "WEB-1")

    response = shop.get(events_url("WEB-1"))

    assert response.json() == {"events": [], "next_cursor": None, "has_more": False}


def test_the_page_size_is_50_by_default_and_200_at_most(shop: APIClient) -> None:
    placed(shop, "WEB-1")
    StorefrontEvent.objects.bulk_create(
        StorefrontEvent(event_id=f"00000000-0000-4000-8000-{i:012d}", type=Type.ORDER_PICKED, client="shop",
                        order_number="WEB-1", payload={"id": str(i)})
        for i in range(201)
    )  # fmt: skip

    default = shop.get(events_url("WEB-1")).json()
    largest = shop.get(events_url("WEB-1"), {"limit": 200}).json()
    too_many = shop.get(events_url("WEB-1"), {"limit": 201})

    assert (len(default["events"]), default["has_more"]) == (50, True)
    assert (len(largest["events"]), largest["has_more"]) == (200, True)
    assert (too_many.status_code, error_of(too_many)["code"]) == (400, "validation_error")
    assert "limit" in error_of(too_many)["detail"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        base64.urlsafe_b64encode(b"ev1:abc").decode(),
        base64.urlsafe_b64encode(b"ev1:0").decode(),
        base64.urlsafe_b64encode(b"ev1:-5").decode(),
        base64.urlsafe_b64encode(b"ev1:1").decode(),  # padded ("=="): not how the API writes it
        base64.urlsafe_b64encode(b"12").decode().rstrip("="),
        "ZXYxOjQy" * 6,  # too long
        "ZXYxOjQy\x00",
    ],
)
def test_a_cursor_the_api_did_not_give_is_400_in_the_one_error_shape(shop: APIClient, cursor: str) -> None:
    placed(shop, "WEB-1")

    response = shop.get(events_url("WEB-1"), {"after": cursor})

    error = error_of(response)
    assert (response.status_code, error["code"]) == (400, "validation_error")
    assert set(error["detail"]) == {"after"}


def test_the_cursor_the_api_gave_is_accepted(shop: APIClient) -> None:
    order = placed(shop, "WEB-1")
    first = event_emit(order=order, type=Type.ORDER_PICKED)
    second = event_emit(order=order, type=Type.ORDER_SHIPPED)

    page = shop.get(events_url("WEB-1"), {"limit": 1}).json()
    rest = shop.get(events_url("WEB-1"), {"after": page["next_cursor"]}).json()

    assert [e["id"] for e in page["events"]] == [str(first.event_id)]
    assert page["has_more"] is True
    assert [e["id"] for e in rest["events"]] == [str(second.event_id)]
    assert base64.urlsafe_b64decode(page["next_cursor"] + "==") == f"ev1:{first.pk}".encode()


def test_another_clients_order_is_404_and_its_events_are_not_listed(
    shop: APIClient, make_api: MakeApi
) -> None:
    order = placed(shop, "WEB-1")
    event_emit(order=order, type=Type.ORDER_SHIPPED)
    other = make_api("other-shop")

    response = other.get(events_url("WEB-1"))
    unknown = shop.get(events_url("WEB-404"))

    assert (response.status_code, error_of(response)["code"]) == (404, "order_not_found")
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "order_not_found")


def test_the_endpoint_needs_the_orders_scope(shop: APIClient, make_api: MakeApi) -> None:
    placed(shop, "WEB-1")
    reader = make_api("shop-reader", scopes=["catalog:read"])

    assert shop.get(events_url("WEB-1")).status_code == 200
    assert error_of(reader.get(events_url("WEB-1")))["code"] == "insufficient_scope"
    assert error_of(APIClient().get(events_url("WEB-1")))["code"] == "not_authenticated"


def test_polled_events_are_the_webhooks_bodies_less_their_send_time(shop: APIClient) -> None:
    order = placed(shop, "WEB-1")
    with running_receiver() as receiver:
        _, receiver.secret = storefront_client_webhook_set(  # type: ignore[assignment]
            client=shop.storefront_client,
            url=receiver.url,  # type: ignore[attr-defined]
        )
        event_emit(order=order, type=Type.ORDER_ACCEPTED)
        event_emit(order=order, type=Type.ORDER_SHIPPED, data={"tracking": "6A123"})
        webhooks_deliver()

    polled = shop.get(events_url("WEB-1")).json()["events"]

    assert all(r.verified for r in receiver.received)
    bodies = sorted(
        (r.json for r in receiver.received), key=lambda b: [e["id"] for e in polled].index(b["id"])
    )
    assert [{k: v for k, v in b.items() if k != "timestamp"} for b in bodies] == polled
    assert [b["type"] for b in bodies] == ["order.accepted", "order.shipped"]
