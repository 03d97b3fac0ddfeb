"""A field a body does not have is an error, at every level of every body: 400 ``unknown_field``.

A typo (``"qty"``, a top-level ``"expires"``) must not be ignored and answered as if it were right.
Each refusal names every unknown field by its path (``lines[0].qty``) and writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from inventory.models import Reservation
from orders.models import Order, OrderCancellation
from returns.models import Return
from tests.factories.api import CUSTOMER, error_of, reserve
from tests.factories.catalogue import Catalogue

LINE = {"sku": "A", "quantity": 1}
ORDER = {
    "order_number": "WEB-1",
    "reservation": "0b7d4a52-5c1e-4d8e-9a56-3f0e2b9c1d11",
    "delivery": "home",
    "customer": CUSTOMER,
    "lines": [{**LINE, "unit_price": "9.90"}],
}
RETURN = {"order_number": "WEB-1", "lines": [{"line_number": 1, "quantity": 1}], "reason": "TAIL"}


@pytest.mark.parametrize(
    ("url", "body", "fields"),
    [
        ("/api/v1/reservations/", {"lines": [{"sku": "A", "qty": 3}]}, ["lines[0].qty"]),
        ("/api/v1/reservations/", {"lines": [LINE], "expires": 600}, ["expires"]),
        (
            "/api/v1/reservations/",
            {"lines": [LINE, {**LINE, "qty": 1, "colour": "red"}], "expires": 600},
            ["lines[1].qty", "lines[1].colour", "expires"],
        ),
        ("/api/v1/orders/", {**ORDER, "coupon": "X"}, ["coupon"]),
        (
            "/api/v1/orders/",
            {**ORDER, "customer": {**CUSTOMER, "adress_line1": "x"}},
            ["customer.adress_line1"],
        ),
        (
            "/api/v1/orders/",
            {**ORDER, "lines": [{**LINE, "unit_price": "9.90", "price": "9.90"}]},
            ["lines[0].price"],
        ),
        ("/api/v1/orders/WEB-1/cancel/", {"lines": [{"line_number": 1, "qty": 1}]}, ["lines[0].qty"]),
        ("/api/v1/orders/WEB-1/cancel/", {"reason_code": "CLI"}, ["reason_code"]),
        (
            "/api/v1/returns/",
            {**RETURN, "lines": [{"line_number": 1, "quantity": 1, "why": "x"}]},
            ["lines[0].why"],
        ),
        ("/api/v1/returns/", {**RETURN, "store_number": 1}, ["store_number"]),
    ],
)
def test_an_unknown_field_anywhere_in_a_body_is_400_unknown_field_naming_its_path(
    catalogue: Catalogue, api: APIClient, url: str, body: dict[str, Any], fields: list[str]
) -> None:
    catalogue.product("A", stock={900: 5})

    response = api.post(url, body, format="json")

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "unknown_field"
    assert error["detail"] == {"fields": fields}
    assert all(field in error["message"] for field in fields)
    assert not Reservation.objects.exists()
    assert not Order.objects.exists()
    assert not OrderCancellation.objects.exists()
    assert not Return.objects.exists()


def test_replacing_a_reservations_lines_refuses_unknown_fields_too(
    catalogue: Catalogue, api: APIClient
) -> None:
    catalogue.product("A", stock={900: 5})
    reservation = reserve(api, [LINE])

    response = api.put(
        f"/api/v1/reservations/{reservation}/", {"lines": [{"sku": "A", "qty": 2}]}, format="json"
    )

    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["detail"]) == (
        "unknown_field",
        {"fields": ["lines[0].qty"]},
    )
    assert [line.quantity for line in Reservation.objects.get().lines.all()] == [1]


def test_the_content_patch_refuses_unknown_fields_as_every_body_does(
    catalogue: Catalogue, api: APIClient
) -> None:
    catalogue.product("A", title="old")

    response = api.patch("/api/v1/products/A/content/", {"title": "new", "titel": "x"}, format="json")

    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["detail"]) == (
        "unknown_field",
        {"fields": ["titel"]},
    )


def test_an_unknown_field_is_told_before_the_errors_it_may_cause(
    catalogue: Catalogue, api: APIClient
) -> None:
    # "qty" for "quantity": the missing quantity is the typo's consequence, not a second problem.
    response = api.post("/api/v1/reservations/", {"lines": [{"sku": "A", "qty": 3}]}, format="json")

    assert error_of(response)["code"] == "unknown_field"


def test_unknown_query_parameters_are_still_ignored(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A")

    assert api.get("/api/v1/products/", {"colour": "red"}).status_code == 200


def _objects(schema: dict[str, Any], node: Any) -> list[dict[str, Any]]:
    """Every object schema reachable from ``node`` (following $refs into the components)."""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                visit(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]])
            if value.get("type") == "object" and "properties" in value:
                found.append(value)
            for inner in value.values():
                visit(inner)
        elif isinstance(value, list):
            for inner in value:
                visit(inner)

    visit(node)
    return found


def test_the_openapi_document_says_every_body_admits_no_other_property(db: None) -> None:
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    bodies = [
        (path, method, operation["requestBody"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]

    assert len(bodies) == 6  # reservations (POST, PUT), orders, cancel, returns, content
    for path, method, body in bodies:
        objects = _objects(schema, body)
        assert objects, (path, method)
        for obj in objects:
            assert obj.get("additionalProperties") is False, (path, method, sorted(obj["properties"]))
