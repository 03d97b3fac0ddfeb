"""What the storefront API's tests build and check their answers with.

- ``ALL_SCOPES``: every scope a storefront client may have.
- ``MakeApi``: the type of the ``make_api`` fixture (tests/plugins/storefront.py).
- ``error_of(response)``: the error of an answer, checked to be in the one shape.
- ``CUSTOMER``: an order's customer, as a storefront sends it.
- ``reserve(api, lines)``: a reservation made through the API (201 checked), its id.
- ``level(sku, location=900)``: the stock level of the product mapped to ``sku``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from integration.models import StorefrontClient
from inventory.models import StockLevel

ALL_SCOPES = list(StorefrontClient.Scope.values)

MakeApi = Callable[..., APIClient]

CUSTOMER = {
    "last_name": "Lefèvre",
    "first_name": "Hélène",
    "address_line1": "12 rue de la Paix",
    "postal_code": "69003",
    "city": "Lyon",
    "email": "helene@example.fr",
}


def error_of(response: Any) -> dict[str, Any]:
    """The error of an answer, checked to be in the one shape."""
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "detail"}, body
    assert isinstance(body["error"]["code"], str)
    assert body["error"]["message"]
    assert body["error"]["detail"] is None or isinstance(body["error"]["detail"], dict)
    return body["error"]  # type: ignore[no-any-return]


def level(sku: str, location: int = 900) -> StockLevel:
    return StockLevel.objects.get(product__mapping__sku=sku, location_id=location)


def reserve(api: APIClient, lines: list[dict[str, Any]]) -> str:
    response = api.post("/api/v1/reservations/", {"lines": lines}, format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])
