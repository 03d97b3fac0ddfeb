"""POST /api/v1/orders/{n}/cancel/: 200 when released at once, 202 when asked of the AS400, and the
refusals with their codes. The order's GET shows its cancellations.

Real database, orders placed through the API, the dispatcher writing into a real exchange folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from integration.models import OutboxMessage, StorefrontEvent
from integration.outbox.dispatch import outbox_dispatch
from orders.models import Order, OrderCancellation, OrderLine
from tests.factories.api import CUSTOMER, MakeApi, error_of, level, reserve
from tests.factories.catalogue import Catalogue
from tests.moments import TUESDAY

NUMBER = "WEB-2026-000001"
URL = f"/api/v1/orders/{NUMBER}/cancel/"

pytestmark = pytest.mark.clock(TUESDAY)  # the dispatcher holds back in the batch window


@pytest.fixture
def order(catalogue: Catalogue, api: APIClient) -> dict[str, Any]:
    """Placed: 3 units of A (line 1) and 2 of B (line 2), home delivery; the GET body."""
    catalogue.product("A", stock={900: 10}, price="9.90")
    catalogue.product("B", stock={900: 10}, price="4.50")
    lines = [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 2}]
    body = {
        "order_number": NUMBER, "reservation": reserve(api, lines), "delivery": "home", "customer": CUSTOMER,
        "lines": [{**lines[0], "unit_price": "9.90"}, {**lines[1], "unit_price": "4.50"}],
    }  # fmt: skip
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def number_of(sku: str) -> int:
    return OrderLine.objects.get(order__order_number=NUMBER, product__mapping__sku=sku).line_number


def cancel(api: APIClient, body: Any = None, **headers: str) -> Any:
    return api.post(URL, {} if body is None else body, format="json", **headers)


def test_the_whole_order_before_it_left_is_200_released_and_its_stock_is_free(
    order: dict[str, Any], api: APIClient
) -> None:
    response = cancel(api, {"reason": "CLI"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == set(order) | {"this_request"}
    assert body["status"] == "cancelled"
    [released] = body["this_request"]
    assert (released["line"], released["quantity"], released["confirmed_quantity"]) == (None, 5, 5)
    assert (released["state"], released["reason"], released["requested_by"]) == ("released", "CLI", "shop")
    assert released["closed_at"]
    assert body["cancellations"] == body["this_request"]
    assert [(e["from"], e["to"]) for e in body["events"]] == [(None, "placed"), ("placed", "cancelled")]
    assert (level("A").in_flight, level("B").in_flight) == (0, 0)
    assert OutboxMessage.objects.get().state == "cancelled"
    assert api.get(f"/api/v1/orders/{NUMBER}/").json()["cancellations"] == body["cancellations"]


def test_some_units_before_it_left_are_200_one_cancellation_per_line(
    order: dict[str, Any], api: APIClient
) -> None:
    a, b = number_of("A"), number_of("B")

    response = cancel(api, {"lines": [{"line_number": a, "quantity": 1}, {"line_number": b, "quantity": 2}]})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "placed"
    assert sorted((c["line"], c["quantity"], c["state"]) for c in body["this_request"]) == sorted(
        [(a, 1, "released"), (b, 2, "released")]
    )
    assert (level("A").in_flight, level("B").in_flight) == (2, 0)
    event = StorefrontEvent.objects.get()
    assert (event.type, event.payload["data"]["by"]) == ("order.cancelled", "customer")


def test_after_it_left_the_answer_is_202_and_the_order_awaits_the_as400(
    order: dict[str, Any], api: APIClient, exchange_dir: Path
) -> None:
    assert outbox_dispatch().files == ["ORDIMP_000001"]

    response = cancel(api, {"lines": [{"line_number": number_of("B"), "quantity": 1}]})

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "cancellation_requested"
    [requested] = body["this_request"]
    assert (requested["line"], requested["quantity"], requested["state"]) == (number_of("B"), 1, "requested")
    assert (requested["confirmed_quantity"], requested["closed_at"]) == (0, None)
    assert body["events"][-1]["to"] == "cancellation_requested"
    assert OutboxMessage.objects.get(kind="ORDANN").payload["quantity"] == 1
    assert level("B").in_flight == 2  # until the AS400 confirms


def test_the_same_idempotency_key_answers_the_same_cancellation_and_another_body_is_409(
    order: dict[str, Any], api: APIClient, exchange_dir: Path
) -> None:
    outbox_dispatch()
    body = {"lines": [{"line_number": number_of("A"), "quantity": 1}]}

    first = cancel(api, body, HTTP_IDEMPOTENCY_KEY="cancel-7")
    again = cancel(api, body, HTTP_IDEMPOTENCY_KEY="cancel-7")
    other = cancel(api, {}, HTTP_IDEMPOTENCY_KEY="cancel-7")
    malformed = cancel(api, body, HTTP_IDEMPOTENCY_KEY="with space")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["this_request"] == first.json()["this_request"]
    assert (other.status_code, error_of(other)["code"]) == (409, "idempotency_key_conflict")
    assert (malformed.status_code, error_of(malformed)["code"]) == (400, "validation_error")
    assert OrderCancellation.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="ORDANN").count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"lines": [{"line_number": 9, "quantity": 1}]}, 400, "unknown_line"),
        ({"lines": [{"line_number": 1, "quantity": 4}]}, 409, "quantity_exceeds_cancellable"),
        ({"lines": [{"line_number": 1, "quantity": 0}]}, 400, "validation_error"),
        ({"lines": [{"line_number": 1, "quantity": "1"}]}, 400, "validation_error"),
        (
            {"lines": [{"line_number": 1, "quantity": 1}, {"line_number": 1, "quantity": 1}]},
            400,
            "validation_error",
        ),
        ({"lines": []}, 400, "validation_error"),
        ({"reason": "client"}, 400, "validation_error"),
        ({"reason": "cli"}, 400, "validation_error"),
        ([], 400, "validation_error"),
    ],
)
def test_refused_requests_have_their_code_and_change_nothing(
    order: dict[str, Any], api: APIClient, body: Any, status: int, code: str
) -> None:
    response = cancel(api, body)

    assert (response.status_code, error_of(response)["code"]) == (status, code)
    assert not OrderCancellation.objects.exists()
    assert Order.objects.get().status == "placed"
    assert (level("A").in_flight, level("B").in_flight) == (3, 2)


def test_a_quantity_beyond_what_is_left_says_what_can_still_be_cancelled(
    order: dict[str, Any], api: APIClient
) -> None:
    a = number_of("A")
    assert cancel(api, {"lines": [{"line_number": a, "quantity": 2}]}).status_code == 200

    response = cancel(api, {"lines": [{"line_number": a, "quantity": 2}]})

    assert response.status_code == 409
    assert error_of(response)["detail"] == {"lines": [{"line_number": a, "asked": 2, "cancellable": 1}]}


def test_a_cancelled_or_shipped_order_is_409_not_cancellable(order: dict[str, Any], api: APIClient) -> None:
    assert cancel(api).status_code == 200

    again = cancel(api)

    assert (again.status_code, error_of(again)["code"]) == (409, "not_cancellable")
    Order.objects.update(status="shipped")
    assert error_of(cancel(api))["code"] == "not_cancellable"


def test_another_clients_order_or_an_unknown_one_is_404(
    order: dict[str, Any], api: APIClient, make_api: MakeApi
) -> None:
    others = cancel(make_api("other"))
    unknown = api.post("/api/v1/orders/WEB-2026-999999/cancel/", {}, format="json")

    assert (others.status_code, error_of(others)["code"]) == (404, "order_not_found")
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "order_not_found")
    assert not OrderCancellation.objects.exists()


def test_cancelling_needs_the_orders_scope(order: dict[str, Any], make_api: MakeApi) -> None:
    response = cancel(make_api("reader", scopes=["availability:read"]))

    assert (response.status_code, error_of(response)["code"]) == (403, "insufficient_scope")
