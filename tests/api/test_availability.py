"""GET /api/v1/availability/: per SKU, home delivery, click-and-collect stores, and as_of."""

from __future__ import annotations

import json
from datetime import datetime

from rest_framework.test import APIClient
from rest_framework.utils.encoders import JSONEncoder

from inventory.api.serializers import AvailabilityListOutputSerializer
from inventory.models import Location
from inventory.selectors import availability_for
from tests.factories.api import MakeApi, error_of
from tests.factories.catalogue import AS_OF, Catalogue

URL = "/api/v1/availability/"


def test_each_sku_has_home_delivery_stores_and_as_of(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A", stock={900: 5, 1: 3, 2: 0, 3: 8})
    catalogue.product("B", stock={})

    response = api.get(URL, {"sku": ["B", "NOPE", "A", "A"]})

    assert response.status_code == 200
    as_of = response.json()["results"][1]["as_of"]
    assert response.json() == {
        "results": [
            {"sku": "B", "home_delivery": 0, "stores": [{"location": 1, "available": 0}, {"location": 2, "available": 0}],
             "as_of": None},
            {"sku": "A", "home_delivery": 5, "stores": [{"location": 1, "available": 3}, {"location": 2, "available": 0}],
             "as_of": as_of},
        ],
        "unknown_skus": ["NOPE"],
    }  # fmt: skip
    assert datetime.fromisoformat(as_of) == AS_OF


def test_pilot_skus_are_unknown_to_clients_that_do_not_see_pilot(
    catalogue: Catalogue, make_api: MakeApi
) -> None:
    catalogue.product("P", category=catalogue.pilot, stock={900: 4})

    assert make_api(pilot=False).get(URL, {"sku": "P"}).json()["unknown_skus"] == ["P"]
    assert make_api(pilot=True).get(URL, {"sku": "P"}).json()["results"][0]["home_delivery"] == 4


def test_many_skus_and_stores_in_one_request(catalogue: Catalogue, api: APIClient) -> None:
    Location.objects.bulk_create(
        Location(code=n, name=f"M{n}", click_and_collect=True) for n in range(10, 40)
    )
    for n in range(50):
        catalogue.product(f"S{n:02d}", stock={900: n, 10: 1})

    response = api.get(URL, {"sku": [f"S{n:02d}" for n in range(50)]})  # 50 SKUs x 33 locations

    assert response.status_code == 200
    assert [r["home_delivery"] for r in response.json()["results"]] == list(range(50))


def test_bad_requests_are_400(catalogue: Catalogue, api: APIClient) -> None:
    for params in [
        {},
        {"sku": ""},
        {"sku": [f"S{n}" for n in range(51)]},
        {"sku": "x" * 65},
        {"sku": "a\x00"},
    ]:
        response = api.get(URL, params)
        assert response.status_code == 400, params
        assert error_of(response)["code"] == "validation_error"
        assert "sku" in error_of(response)["detail"]


def test_availability_needs_its_scope(catalogue: Catalogue, make_api: MakeApi) -> None:
    response = make_api(scopes=["catalog:read"]).get(URL, {"sku": "A"})

    assert (response.status_code, error_of(response)["code"]) == (403, "insufficient_scope")


def test_the_answer_is_what_the_documented_serializer_renders(catalogue: Catalogue, api: APIClient) -> None:
    """The view builds its answer directly (the hot path); the OpenAPI document describes the serializer."""
    catalogue.product("A", stock={900: 5, 1: 3, 2: 0})
    catalogue.product("B", stock={})

    answer = api.get(URL, {"sku": ["A", "B", "NOPE"]}).json()

    found = availability_for(skus=["A", "B"], include_pilot=False)
    documented = AvailabilityListOutputSerializer(
        {"results": [found["A"], found["B"]], "unknown_skus": ["NOPE"]}
    ).data
    assert answer == json.loads(json.dumps(documented, cls=JSONEncoder))  # DRF's encoder, as the renderer
    assert answer["results"][0]["as_of"] is not None
