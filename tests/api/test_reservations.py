"""Reservations through the API: hold, read, replace, release; shortages, idempotency, bad input."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import Reservation, ReservationLine, SellingSwitch, StockLevel
from tests.factories.api import MakeApi, error_of
from tests.factories.catalogue import Catalogue

URL = "/api/v1/reservations/"


def reserve(api: APIClient, lines: Any, **headers: str) -> Any:
    return api.post(URL, {"lines": lines}, format="json", **headers)


def held(sku: str, location: int = 900) -> int:
    return StockLevel.objects.get(product__mapping__sku=sku, location_id=location).reserved


def test_a_reservation_holds_every_line_and_answers_201(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A", stock={900: 5, 1: 2}, price="12.50")

    response = reserve(api, [{"sku": "A", "quantity": 2}, {"sku": "A", "quantity": 1, "location": 1}])

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "status", "expires_at", "created_at", "lines"}
    assert body["status"] == "active"
    assert body["lines"] == [
        {"sku": "A", "location": 1, "quantity": 1, "unit_price": "12.50"},
        {"sku": "A", "location": 900, "quantity": 2, "unit_price": "12.50"},
    ]
    assert (held("A"), held("A", 1)) == (2, 1)
    assert Reservation.objects.get(pk=body["id"]).client == "shop"


def test_a_shortage_is_409_with_what_each_short_line_asked_and_what_is_available(
    catalogue: Catalogue, api: APIClient
) -> None:
    catalogue.product("A", stock={900: 5})
    catalogue.product("B", stock={900: 1, 2: 0})

    response = reserve(
        api,
        [
            {"sku": "A", "quantity": 3},
            {"sku": "B", "quantity": 2},
            {"sku": "B", "quantity": 1, "location": 2},
        ],
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "insufficient_stock"
    assert error["detail"] == {
        "shortages": [
            {"sku": "B", "location": 2, "requested": 1, "available": 0},
            {"sku": "B", "location": 900, "requested": 2, "available": 1},
        ]
    }
    assert (held("A"), held("B")) == (0, 0)
    assert not Reservation.objects.exists()


def test_the_same_idempotency_key_answers_the_same_reservation(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A", stock={900: 5})
    lines = [{"sku": "A", "quantity": 2}]

    first = reserve(api, lines, HTTP_IDEMPOTENCY_KEY="cart-42")
    again = reserve(api, lines, HTTP_IDEMPOTENCY_KEY="cart-42")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert held("A") == 2
    other = reserve(api, [{"sku": "A", "quantity": 1}], HTTP_IDEMPOTENCY_KEY="cart-42")
    assert (other.status_code, error_of(other)["code"]) == (409, "idempotency_key_conflict")


def test_idempotency_keys_are_per_client(catalogue: Catalogue, make_api: MakeApi) -> None:
    catalogue.product("A", stock={900: 5})

    one = reserve(make_api(), [{"sku": "A", "quantity": 1}], HTTP_IDEMPOTENCY_KEY="k")
    two = reserve(make_api(), [{"sku": "A", "quantity": 1}], HTTP_IDEMPOTENCY_KEY="k")

    assert one.json()["id"] != two.json()["id"]


@pytest.mark.parametrize("key", ["x" * 129, "with space", "caf\u00e9"])
def test_a_malformed_idempotency_key_is_400(catalogue: Catalogue, api: APIClient, key: str) -> None:
    catalogue.product("A")

    response = reserve(api, [{"sku": "A", "quantity": 1}], HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert error_of(response)["detail"] == {
        "Idempotency-Key": ["This must be printable ASCII without spaces, 1 to 128 characters."]
    }


def test_get_put_and_delete(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A", stock={900: 5})
    catalogue.product("B", stock={900: 5})
    created = reserve(api, [{"sku": "A", "quantity": 2}]).json()
    url = f"{URL}{created['id']}/"

    assert api.get(url).json() == created
    replaced = api.put(url, {"lines": [{"sku": "B", "quantity": 3}]}, format="json")
    assert replaced.status_code == 200
    assert replaced.json()["lines"] == [{"sku": "B", "location": 900, "quantity": 3, "unit_price": "9.90"}]
    assert replaced.json()["expires_at"] >= created["expires_at"]
    assert (held("A"), held("B")) == (0, 3)
    assert api.get(url).json() == replaced.json()

    assert api.delete(url).status_code == 204
    assert held("B") == 0
    released = api.get(url).json()
    assert (released["status"], released["lines"]) == ("released", replaced.json()["lines"])
    assert api.delete(url).status_code == 204
    again = api.put(url, {"lines": [{"sku": "B", "quantity": 1}]}, format="json")
    assert (again.status_code, error_of(again)["code"]) == (409, "reservation_not_active")


def test_a_replacement_short_of_stock_leaves_the_reservation_as_it_was(
    catalogue: Catalogue, api: APIClient
) -> None:
    catalogue.product("A", stock={900: 5})
    created = reserve(api, [{"sku": "A", "quantity": 2}]).json()

    response = api.put(f"{URL}{created['id']}/", {"lines": [{"sku": "A", "quantity": 6}]}, format="json")

    assert response.status_code == 409
    assert error_of(response)["detail"] == {
        "shortages": [{"sku": "A", "location": 900, "requested": 6, "available": 3}]
    }
    assert api.get(f"{URL}{created['id']}/").json() == created
    assert held("A") == 2


def test_an_expired_reservation_shows_expired(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A", stock={900: 5})
    created = reserve(api, [{"sku": "A", "quantity": 2}]).json()
    past = timezone.now() - timedelta(minutes=1)
    Reservation.objects.filter(pk=created["id"]).update(expires_at=past)
    ReservationLine.objects.filter(reservation_id=created["id"]).update(expires_at=past)

    body = api.get(f"{URL}{created['id']}/").json()

    assert body["status"] == "expired"
    assert body["lines"] == created["lines"]


@pytest.mark.parametrize(
    "ident", ["not-a-uuid", "0b5c7f2e-8d1a-4c1e-9f4e-2a7d3c6b9e10", "1", "%00", "x" * 300]
)
def test_unknown_or_malformed_ids_are_404(catalogue: Catalogue, api: APIClient, ident: str) -> None:
    for response in [api.get(f"{URL}{ident}/"), api.delete(f"{URL}{ident}/"),
                     api.put(f"{URL}{ident}/", {"lines": [{"sku": "A", "quantity": 1}]}, format="json")]:  # fmt: skip
        assert response.status_code == 404
        assert error_of(response)["code"] == "reservation_not_found"


def test_another_clients_reservation_does_not_exist(catalogue: Catalogue, make_api: MakeApi) -> None:
    catalogue.product("A", stock={900: 5})
    mine, theirs = make_api(), make_api()
    url = f"{URL}{reserve(theirs, [{'sku': 'A', 'quantity': 1}]).json()['id']}/"

    assert mine.get(url).status_code == 404
    assert mine.delete(url).status_code == 404
    assert mine.put(url, {"lines": [{"sku": "A", "quantity": 1}]}, format="json").status_code == 404
    assert held("A") == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"lines": []},
        {"lines": "A"},
        {"lines": [{"sku": "A"}]},
        {"lines": [{"sku": "A", "quantity": 0}]},
        {"lines": [{"sku": "A", "quantity": -1}]},
        {"lines": [{"sku": "A", "quantity": 10_001}]},
        {"lines": [{"sku": "A", "quantity": 10**30}]},
        {"lines": [{"sku": "A", "quantity": 1.5}]},
        {"lines": [{"sku": "A", "quantity": "lots"}]},
        {"lines": [{"sku": "A", "quantity": 1, "location": "Paris"}]},
        {"lines": [{"sku": "A", "quantity": 1, "location": 10**12}]},
        {"lines": [{"sku": "", "quantity": 1}]},
        {"lines": [{"sku": "A\x00", "quantity": 1}]},
        {"lines": [{"sku": ["A"], "quantity": 1}]},
        {"lines": [{"sku": "A", "quantity": 1}] * 101},
        {"lines": [None]},
        [],
        "lines",
    ],
)
def test_malformed_lines_are_400_validation_error(catalogue: Catalogue, api: APIClient, body: Any) -> None:
    catalogue.product("A", stock={900: 5})

    response = api.post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert error_of(response)["code"] == "validation_error"
    assert held("A") == 0


@pytest.mark.parametrize(
    ("line", "code", "detail"),
    [
        ({"sku": "NOPE", "quantity": 1}, "unknown_sku", {"skus": ["NOPE"]}),
        ({"sku": "P", "quantity": 1}, "unknown_sku", {"skus": ["P"]}),  # pilot, to a client without
        ({"sku": "A", "quantity": 1, "location": 3}, "location_not_selling", {"location": 3}),
        ({"sku": "A", "quantity": 1, "location": 77}, "location_not_selling", {"location": 77}),
    ],
)
def test_inventory_refusals_keep_their_codes(
    catalogue: Catalogue, api: APIClient, line: dict[str, Any], code: str, detail: dict[str, Any]
) -> None:
    catalogue.product("A", stock={900: 5, 3: 5})
    catalogue.product("P", category=catalogue.pilot)

    response = reserve(api, [line])

    assert response.status_code == 400
    assert error_of(response)["code"] == code
    assert error_of(response)["detail"] == detail


def test_pilot_products_are_sold_to_clients_that_see_pilot(catalogue: Catalogue, make_api: MakeApi) -> None:
    catalogue.product("P", category=catalogue.pilot)

    assert reserve(make_api(pilot=True), [{"sku": "P", "quantity": 1}]).status_code == 201


def test_nothing_is_held_while_selling_is_paused(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A")
    SellingSwitch.objects.create(selling_enabled=False)

    response = reserve(api, [{"sku": "A", "quantity": 1}])

    assert response.status_code == 503
    assert error_of(response)["code"] == "selling_paused"


def test_reservations_need_their_scope(catalogue: Catalogue, make_api: MakeApi) -> None:
    api = make_api(scopes=["catalog:read", "availability:read"])

    assert error_of(reserve(api, [{"sku": "A", "quantity": 1}]))["code"] == "insufficient_scope"
    assert error_of(api.get(f"{URL}{uuid.uuid4()}/"))["code"] == "insufficient_scope"
