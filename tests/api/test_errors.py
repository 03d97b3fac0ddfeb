"""The one error shape everywhere, and the API's documentation."""

from __future__ import annotations

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from config.urls import server_error
from tests.factories.api import error_of
from tests.factories.catalogue import Catalogue


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/products", "/api/v2/products/", "/api/"])
def test_unknown_api_paths_are_404_in_the_shape(db: None, path: str) -> None:
    for method in ["get", "post", "delete"]:
        response = getattr(APIClient(), method)(path)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_a_method_an_endpoint_does_not_have_is_405(catalogue: Catalogue, api: APIClient) -> None:
    response = api.delete("/api/v1/products/")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert response["Allow"]


def test_the_api_answers_json_only(catalogue: Catalogue, api: APIClient) -> None:
    response = api.get("/api/v1/products/", HTTP_ACCEPT="text/html")

    assert response.status_code == 406
    assert error_of(response)["code"] == "not_acceptable"


def test_messages_are_english_whatever_the_sites_language(catalogue: Catalogue, api: APIClient) -> None:
    response = api.get("/api/v1/products/", {"limit": "x"})

    assert error_of(response)["message"] == "invalid input: limit: This must be an integer."


def test_a_server_error_under_api_is_in_the_shape_too(db: None) -> None:
    api = server_error(RequestFactory().get("/api/v1/products/"))
    site = server_error(RequestFactory().get("/admin/"))

    assert api.status_code == 500
    assert error_of(api)["code"] == "server_error"
    assert site["Content-Type"].startswith("text/html")


def test_the_schema_describes_every_operation_and_the_error_shape(db: None) -> None:
    response = Client().get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations == {
        ("/api/v1/products/", "get"),
        ("/api/v1/products/{sku}/", "get"),
        ("/api/v1/products/{sku}/content/", "patch"),
        ("/api/v1/availability/", "get"),
        ("/api/v1/reservations/", "post"),
        ("/api/v1/reservations/{reservation_id}/", "get"),
        ("/api/v1/reservations/{reservation_id}/", "put"),
        ("/api/v1/reservations/{reservation_id}/", "delete"),
        ("/api/v1/orders/", "post"),
        ("/api/v1/orders/{order_number}/", "get"),
        ("/api/v1/orders/{order_number}/cancel/", "post"),
        ("/api/v1/orders/{order_number}/events/", "get"),
        ("/api/v1/returns/", "get"),
        ("/api/v1/returns/", "post"),
        ("/api/v1/returns/{rma}/", "get"),
    }
    assert schema["components"]["securitySchemes"]["StorefrontToken"]["scheme"] == "bearer"
    assert '{"error": {"code":' in schema["info"]["description"]
    create = schema["paths"]["/api/v1/reservations/"]["post"]
    assert {"201", "400", "401", "403", "409", "429"} <= set(create["responses"])
    assert [p["name"] for p in create["parameters"]] == ["Idempotency-Key"]
    place = schema["paths"]["/api/v1/orders/"]["post"]
    assert {"200", "201", "400", "401", "403", "404", "409", "429"} <= set(place["responses"])
    content = schema["components"]["schemas"]["PatchedProductContentInputRequest"]
    assert sorted(content["properties"]) == ["attributes", "images", "long_description", "title"]
    assert content["additionalProperties"] is False


def test_the_docs_page_loads_its_assets_from_this_server(db: None) -> None:
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/schema/" in page
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    assert all(finders.find(a) for a in assets), assets
    assert "cdn." not in page
    assert "unpkg" not in page
