"""Orders through the API: place (201, a replay 200), refusals with their codes, read with history.

Real database, real reservations made through the API, nothing of ours mocked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from integration.models import OutboxMessage
from inventory.models import Reservation, StockLevel
from orders.models import Order, OrderEvent, OrderLine
from orders.selectors import message_order
from tests.factories.api import CUSTOMER, MakeApi, error_of, level, reserve
from tests.factories.catalogue import Catalogue
from tests.races import race

URL = "/api/v1/orders/"


def an_order(reservation: str, lines: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    body = {
        "order_number": "WEB-2026-000001",
        "reservation": reservation,
        "delivery": "home",
        "customer": dict(CUSTOMER),
        "lines": lines,
    }
    body.update(changes)
    return body


def place(api: APIClient, body: Any, **headers: str) -> Any:
    return api.post(URL, body, format="json", **headers)


@pytest.fixture
def reserved(catalogue: Catalogue, api: APIClient) -> dict[str, Any]:
    """3 units of A reserved for home delivery (10 in the warehouse, 9.90 each): the order's body."""
    catalogue.product("A", stock={900: 10}, price="9.90")
    reservation = reserve(api, [{"sku": "A", "quantity": 3}])
    return an_order(reservation, [{"sku": "A", "quantity": 3, "unit_price": "9.90"}])


def nothing_written(sku: str = "A", reserved: int = 3) -> None:
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert (level(sku).reserved, level(sku).in_flight) == (reserved, 0)


def test_placing_an_order_answers_201_moves_the_reservation_in_flight_and_queues_one_message(
    reserved: dict[str, Any], api: APIClient
) -> None:
    response = place(api, reserved)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "order_number", "status", "as400_order_number", "refusal_reason", "delivery", "pickup_location",
        "reservation", "total", "customer", "customer_as_sent", "lines", "events", "cancellations", "created_at",
        "updated_at",
    }  # fmt: skip
    assert (body["order_number"], body["status"], body["as400_order_number"], body["refusal_reason"]) == (
        "WEB-2026-000001", "placed", None, None,
    )  # fmt: skip
    assert (body["delivery"], body["pickup_location"], body["total"]) == ("home", 900, "29.70")
    assert body["reservation"] == reserved["reservation"]
    assert body["lines"] == [
        {
            "line_number": 1,
            "sku": "A",
            "location": 900,
            "quantity": 3,
            "unit_price": "9.90",
            "picked": 0,
            "shipped": 0,
            "ready": 0,
            "cancelled": 0,
            "returned": 0,
            "tracking_numbers": [],
        }
    ]
    assert [(e["from"], e["to"], e["line"]) for e in body["events"]] == [(None, "placed", None)]
    assert body["events"][0]["cause"] == "placed by shop"
    assert body["events"][0]["at"]
    assert body["customer"] == {**CUSTOMER, "address_line2": "", "country": "FR", "phone": ""}
    assert (level("A").reserved, level("A").in_flight) == (0, 3)
    message = OutboxMessage.objects.get()
    assert (message.kind, message_order(message).order_number) == ("ORDIMP", "WEB-2026-000001")
    assert Order.objects.get().client == "shop"
    assert Reservation.objects.get().status == Reservation.Status.CONVERTED


def test_the_same_body_again_answers_200_with_the_same_order_and_nothing_more(
    reserved: dict[str, Any], api: APIClient
) -> None:
    first = place(api, reserved)
    again = place(api, reserved)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Order.objects.count() == OutboxMessage.objects.count() == 1
    assert level("A").in_flight == 3


def test_a_price_written_9_9_or_9_90_is_the_same_order(reserved: dict[str, Any], api: APIClient) -> None:
    assert place(api, reserved).status_code == 201
    reserved["lines"][0]["unit_price"] = "9.9"

    assert place(api, reserved).status_code == 200


def test_the_same_number_with_other_content_is_409_order_number_conflict(
    reserved: dict[str, Any], api: APIClient
) -> None:
    assert place(api, reserved).status_code == 201

    response = place(api, {**reserved, "customer": {**CUSTOMER, "city": "Paris"}})

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["detail"]) == ("order_number_conflict", {"order_number": "WEB-2026-000001"})
    assert Order.objects.get().city == "Lyon"
    assert OutboxMessage.objects.count() == 1


def test_the_same_number_from_another_client_is_a_conflict_not_its_order(
    reserved: dict[str, Any], api: APIClient, make_api: MakeApi
) -> None:
    assert place(api, reserved).status_code == 201

    response = place(make_api("other"), reserved)

    assert (response.status_code, error_of(response)["code"]) == (409, "order_number_conflict")
    assert "Lefèvre" not in response.content.decode()


def test_the_same_idempotency_key_answers_the_same_order(reserved: dict[str, Any], api: APIClient) -> None:
    first = place(api, reserved, HTTP_IDEMPOTENCY_KEY="checkout-42")
    again = place(api, reserved, HTTP_IDEMPOTENCY_KEY="checkout-42")
    other_number = place(
        api, {**reserved, "order_number": "WEB-2026-000002"}, HTTP_IDEMPOTENCY_KEY="checkout-42"
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["order_number"] == "WEB-2026-000001"
    assert (other_number.status_code, error_of(other_number)["code"]) == (409, "idempotency_key_conflict")
    assert error_of(other_number)["detail"] == {"order_number": "WEB-2026-000001"}
    assert Order.objects.get().idempotency_key == "checkout-42"


def test_a_malformed_idempotency_key_is_400(reserved: dict[str, Any], api: APIClient) -> None:
    response = place(api, reserved, HTTP_IDEMPOTENCY_KEY="with space")

    assert (response.status_code, error_of(response)["code"]) == (400, "validation_error")
    nothing_written()


@pytest.mark.django_db(transaction=True)
def test_the_same_order_posted_at_the_same_moment_is_one_order(make_api: MakeApi) -> None:
    Catalogue().product("A", stock={900: 10}, price="9.90")
    api = make_api("shop")
    body = an_order(
        reserve(api, [{"sku": "A", "quantity": 3}]), [{"sku": "A", "quantity": 3, "unit_price": "9.90"}]
    )
    token = api.token  # type: ignore[attr-defined]
    clients = [APIClient() for _ in range(6)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(client: APIClient) -> tuple[int, Any]:
        response = place(client, body)
        return (response.status_code, response.json().get("order_number"))

    outcomes = race(post, [(client,) for client in clients], timeout=60)
    results = [repr(o.error) if o.error is not None else o.get() for o in outcomes]  # the assertion shows any

    assert sorted(results, key=str) == sorted(
        [(201, "WEB-2026-000001")] + [(200, "WEB-2026-000001")] * 5, key=str
    )
    assert Order.objects.count() == OutboxMessage.objects.count() == 1
    assert (level("A").reserved, level("A").in_flight) == (0, 3)


def test_an_expired_reservation_still_places_the_order_when_the_stock_is_there(
    reserved: dict[str, Any], api: APIClient
) -> None:
    Reservation.objects.update(expires_at=timezone.now() - timedelta(minutes=5))

    response = place(api, reserved)

    assert response.status_code == 201, response.content
    assert (level("A").reserved, level("A").in_flight) == (0, 3)


def test_an_expired_reservation_whose_stock_is_gone_is_409_insufficient_stock(
    reserved: dict[str, Any], api: APIClient
) -> None:
    Reservation.objects.update(expires_at=timezone.now() - timedelta(minutes=5))
    StockLevel.objects.filter(location_id=900).update(on_hand=2)

    response = place(api, reserved)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "insufficient_stock"
    assert error["detail"] == {"shortages": [{"sku": "A", "location": 900, "requested": 3, "available": 0}]}
    nothing_written()


def test_lines_that_do_not_match_the_reservation_are_409(reserved: dict[str, Any], api: APIClient) -> None:
    reserved["lines"][0]["quantity"] = 2

    response = place(api, reserved)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "lines_do_not_match_reservation"
    assert error["detail"] == {"reserved": [{"sku": "A", "location": 900, "quantity": 3}]}
    nothing_written()


def test_a_unit_price_other_than_the_reservations_is_409_price_mismatch(
    reserved: dict[str, Any], api: APIClient
) -> None:
    reserved["lines"][0]["unit_price"] = "8.90"

    response = place(api, reserved)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "price_mismatch"
    assert error["detail"] == {"lines": [{"sku": "A", "asked": "8.90", "price": "9.90"}]}
    nothing_written()


def test_a_name_the_code_page_cannot_hold_is_400_and_nothing_is_written(
    reserved: dict[str, Any], api: APIClient
) -> None:
    reserved["customer"]["last_name"] = "Достоевский"

    response = place(api, reserved)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["detail"]) == ("not_writable_for_the_as400", {"field": "last_name"})
    nothing_written()
    assert Reservation.objects.get().status == Reservation.Status.ACTIVE


def test_names_the_code_page_folds_are_kept_as_given_and_shown_as_sent(
    reserved: dict[str, Any], api: APIClient
) -> None:
    reserved["customer"].update(
        last_name="Wałęsa",
        first_name="Łukasz Zoë",
        city="Œuilly",
        address_line1="12 rue de l’Église — bât. B",
    )

    response = place(api, reserved)

    assert response.status_code == 201, response.content
    body = response.json()
    given = (body["customer"]["last_name"], body["customer"]["first_name"], body["customer"]["city"])
    assert given == ("Wałęsa", "Łukasz Zoë", "Œuilly")
    assert body["customer"]["address_line1"] == "12 rue de l’Église — bât. B"
    sent = body["customer_as_sent"]
    assert (sent["last_name"], sent["first_name"], sent["city"]) == ("Walesa", "Lukasz Zoë", "OEuilly")
    assert sent["address_line1"] == "12 rue de l'Église - bât. B"
    assert Order.objects.get().last_name == "Wałęsa"


def test_click_and_collect_is_picked_at_the_store(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A", stock={900: 10, 1: 4}, price="9.90")
    reservation = reserve(api, [{"sku": "A", "quantity": 2, "location": 1}])
    body = an_order(
        reservation,
        [{"sku": "A", "quantity": 2, "unit_price": "9.90", "location": 1}],
        delivery="click_and_collect",
        pickup_location=1,
    )

    response = place(api, body)

    assert response.status_code == 201, response.content
    assert (response.json()["pickup_location"], response.json()["lines"][0]["location"]) == (1, 1)
    assert (level("A", 1).reserved, level("A", 1).in_flight) == (0, 2)


def test_click_and_collect_at_a_store_that_does_not_do_it_is_400_invalid_order(
    reserved: dict[str, Any], api: APIClient
) -> None:
    response = place(api, {**reserved, "delivery": "click_and_collect", "pickup_location": 3})

    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["detail"]) == (
        "invalid_order",
        {"field": "pickup_location"},
    )
    nothing_written()


def test_an_unknown_or_another_clients_reservation_is_404(
    reserved: dict[str, Any], api: APIClient, make_api: MakeApi
) -> None:
    unknown = place(api, {**reserved, "reservation": "00000000-0000-4000-8000-000000000000"})
    others = place(make_api("other"), reserved)

    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "reservation_not_found")
    assert (others.status_code, error_of(others)["code"]) == (404, "reservation_not_found")
    nothing_written()


def test_a_released_reservation_is_409_reservation_not_active(
    reserved: dict[str, Any], api: APIClient
) -> None:
    assert api.delete(f"/api/v1/reservations/{reserved['reservation']}/").status_code == 204

    response = place(api, reserved)

    assert (response.status_code, error_of(response)["code"]) == (409, "reservation_not_active")
    nothing_written(reserved=0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order_number": ""}, "order_number"),
        ({"order_number": "W" * 21}, "order_number"),
        ({"order_number": 12}, "order_number"),
        ({"reservation": "not-a-uuid"}, "reservation"),
        ({"reservation": 1234}, "reservation"),
        ({"delivery": "drone"}, "delivery"),
        ({"customer": "Lefèvre"}, "customer"),
        ({"customer": {"first_name": "Hélène"}}, "customer"),
        ({"customer": {**CUSTOMER, "last_name": "Lef\x00vre"}}, "customer"),
        ({"customer": {**CUSTOMER, "email": "not an email"}}, "customer"),
        ({"customer": {**CUSTOMER, "country": "FRA"}}, "customer"),
        ({"customer": {**CUSTOMER, "city": "L" * 201}}, "customer"),
        ({"lines": []}, "lines"),
        ({"lines": {"sku": "A"}}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 3, "unit_price": 9.9}]}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 3, "unit_price": "9.999"}]}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 3, "unit_price": "1e1"}]}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 3, "unit_price": "-9.90"}]}, "lines"),
        ({"lines": [{"sku": "A", "quantity": "3", "unit_price": "9.90"}]}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 0, "unit_price": "9.90"}]}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 3, "unit_price": "9.90", "location": 1000}]}, "lines"),
        ({"pickup_location": "1"}, "pickup_location"),
    ],
)
def test_a_malformed_body_is_400_in_the_one_shape(
    reserved: dict[str, Any], api: APIClient, change: dict[str, Any], field: str
) -> None:
    response = place(api, {**reserved, **change})

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["detail"]
    nothing_written()


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null", b'"order"', b"[" * 100_000])
def test_a_body_that_is_not_an_order_object_is_400(
    reserved: dict[str, Any], api: APIClient, raw: bytes
) -> None:
    response = api.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] in {"validation_error", "parse_error"}
    nothing_written()


def test_an_order_needs_the_orders_scope(reserved: dict[str, Any], make_api: MakeApi) -> None:
    api = make_api("reserver", scopes=["reservations:write"])

    response = place(api, reserved)
    read = api.get(f"{URL}WEB-2026-000001/")

    assert (response.status_code, error_of(response)["code"]) == (403, "insufficient_scope")
    assert (read.status_code, error_of(read)["code"]) == (403, "insufficient_scope")


# --- Reading an order ---------------------------------------------------------------------------


def test_get_shows_the_order_with_its_history(
    reserved: dict[str, Any], api: APIClient, django_assert_max_num_queries: Any
) -> None:
    placed = place(api, reserved).json()
    order = Order.objects.get()
    line = order.lines.get()
    OrderEvent.objects.create(order=order, status_from="placed", status_to="sent", cause="ORDIMP00000001.DAT")
    OrderEvent.objects.create(
        order=order, line=line, status_from="sent", status_to="accepted", cause="ORDACK A"
    )
    Order.objects.filter(pk=order.pk).update(status="accepted", as400_order_number="0001234567")

    with django_assert_max_num_queries(8):  # auth and throttle, then the order, its lines, its events
        response = api.get(f"{URL}WEB-2026-000001/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["as400_order_number"]) == ("accepted", "0001234567")
    assert body["lines"] == placed["lines"]
    assert body["customer"] == placed["customer"]
    assert [(e["from"], e["to"], e["cause"], e["line"]) for e in body["events"]] == [
        (None, "placed", "placed by shop", None),
        ("placed", "sent", "ORDIMP00000001.DAT", None),
        ("sent", "accepted", "ORDACK A", 1),
    ]


def test_get_of_another_clients_order_or_an_unknown_one_is_404(
    reserved: dict[str, Any], api: APIClient, make_api: MakeApi
) -> None:
    assert place(api, reserved).status_code == 201

    others = make_api("other").get(f"{URL}WEB-2026-000001/")
    unknown = api.get(f"{URL}WEB-2026-999999/")

    assert (others.status_code, error_of(others)["code"]) == (404, "order_not_found")
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "order_not_found")
    assert "Lefèvre" not in others.content.decode()
