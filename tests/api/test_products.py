"""Products: what a client may see, filters, pagination, and storefront content."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import Product, SafetyStockOverride, SellingSwitch, StockLevel
from inventory.services import product_content_update
from tests.factories.api import MakeApi, error_of
from tests.factories.catalogue import Catalogue

PRODUCTS = "/api/v1/products/"


def skus(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [p["sku"] for p in response.json()["results"]]


def test_a_product_has_its_as400_fields_content_price_and_availability(
    catalogue: Catalogue, api: APIClient
) -> None:
    catalogue.product(
        "A1", stock={900: 7, 1: 2, 3: 9}, ean="4006381333931", title="Perceuse", images=["https://x/a.jpg"]
    )

    response = api.get(f"{PRODUCTS}A1/")

    assert response.status_code == 200
    body = response.json()
    assert body["availability"] == {
        "home_delivery": 7,
        "stores": [{"location": 1, "available": 2}, {"location": 2, "available": 0}],
        "as_of": "2026-11-22T02:45:00Z",  # AS_OF, in UTC
    }
    assert {k: body[k] for k in ["sku", "item_number", "ean", "price", "status", "title", "images", "attributes"]} == {
        "sku": "A1", "item_number": "IA1", "ean": "4006381333931", "price": "9.90", "status": "A",
        "title": "Perceuse", "images": ["https://x/a.jpg"], "attributes": {},
    }  # fmt: skip
    assert body["category"] == {"code": "LIVE", "name": "Outillage", "stage": "live"}


@pytest.mark.parametrize("hidden", ["off", "inactive", "delisted", "unmapped", "no category", "pilot"])
def test_hidden_products_do_not_exist(catalogue: Catalogue, api: APIClient, hidden: str) -> None:
    catalogue.product("SEEN")
    kwargs: dict[str, Any] = {
        "off": {"category": catalogue.off},
        "inactive": {"status": "S"},
        "delisted": {"status": "D"},
        "unmapped": {"mapped": False},
        "pilot": {"category": catalogue.pilot},
        "no category": {},
    }[hidden]
    product = catalogue.product("HIDDEN", **kwargs)
    if hidden == "no category":
        Product.objects.filter(pk=product.pk).update(category=None)

    response = api.get(f"{PRODUCTS}HIDDEN/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "product_not_found"
    assert skus(api.get(PRODUCTS)) == ["SEEN"]
    assert api.get("/api/v1/availability/?sku=HIDDEN").json()["unknown_skus"] == ["HIDDEN"]


def test_pilot_categories_show_to_clients_allowed_to_see_them_only(
    catalogue: Catalogue, make_api: MakeApi
) -> None:
    catalogue.product("LIVE1")
    catalogue.product("PILOT1", category=catalogue.pilot)
    catalogue.product("OFF1", category=catalogue.off)
    preview, public = make_api(pilot=True), make_api(pilot=False)

    assert skus(preview.get(PRODUCTS)) == ["LIVE1", "PILOT1"]
    assert skus(public.get(PRODUCTS)) == ["LIVE1"]
    assert preview.get(f"{PRODUCTS}PILOT1/").json()["category"]["stage"] == "pilot"
    assert public.get(f"{PRODUCTS}PILOT1/").status_code == 404
    assert preview.get(f"{PRODUCTS}OFF1/").status_code == 404


def test_filter_by_category(catalogue: Catalogue, make_api: MakeApi) -> None:
    catalogue.product("L")
    catalogue.product("P", category=catalogue.pilot)
    api = make_api(pilot=True)

    assert skus(api.get(PRODUCTS, {"category": "PILO"})) == ["P"]
    assert skus(api.get(PRODUCTS, {"category": "OFF"})) == []
    assert skus(api.get(PRODUCTS, {"category": "NONE"})) == []


def test_filter_updated_since(catalogue: Catalogue, api: APIClient) -> None:
    old, new = catalogue.product("OLD"), catalogue.product("NEW")
    now = timezone.now()
    Product.objects.filter(pk=old.pk).update(updated_at=now - timedelta(days=2))
    Product.objects.filter(pk=new.pk).update(updated_at=now)

    since = (now - timedelta(days=1)).isoformat()
    assert skus(api.get(PRODUCTS, {"updated_since": since})) == ["NEW"]
    assert skus(api.get(PRODUCTS, {"updated_since": "2000-01-01T00:00:00Z"})) == ["OLD", "NEW"]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-22T25:00", "\x00"])
def test_a_bad_updated_since_is_400_validation_error(
    catalogue: Catalogue, api: APIClient, value: str
) -> None:
    response = api.get(PRODUCTS, {"updated_since": value})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert list(error["detail"]) == ["updated_since"]


def test_filter_in_stock_counts_every_selling_location(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("HOME", stock={900: 1})
    catalogue.product("STORE", stock={900: 0, 2: 1})
    catalogue.product("NONC", stock={900: 0, 3: 5})  # store 3 does not do click and collect
    catalogue.product("NONE", stock={})
    catalogue.product("SAFE", stock={900: 2})
    catalogue.product("PROMISED", stock={900: 2})
    StockLevel.objects.filter(product__item_number="IPROMISED").update(promised=2)
    SafetyStockOverride.objects.create(product=Product.objects.get(item_number="ISAFE"), quantity=2)

    assert skus(api.get(PRODUCTS, {"in_stock": "true"})) == ["HOME", "STORE"]
    assert len(skus(api.get(PRODUCTS, {"in_stock": "false"}))) == 6


def test_in_stock_is_empty_while_selling_is_paused(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("HOME", stock={900: 5})
    SellingSwitch.objects.create(selling_enabled=False, reason="AS400 incident")

    assert skus(api.get(PRODUCTS, {"in_stock": "true"})) == []
    assert api.get(f"{PRODUCTS}HOME/").json()["availability"]["home_delivery"] == 0


def _all_pages(api: APIClient, params: dict[str, Any]) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    url: str | None = PRODUCTS
    while url:
        response = api.get(url, params if pages == 0 else None)
        seen += skus(response)
        url = response.json()["next"]
        pages += 1
    return seen, pages


def test_pages_follow_each_other_without_gaps_or_repeats(catalogue: Catalogue, api: APIClient) -> None:
    for n in range(7):
        catalogue.product(f"P{n}", stock={900: n % 2})  # odd ones in stock

    assert _all_pages(api, {"limit": 3}) == ([f"P{n}" for n in range(7)], 3)
    assert _all_pages(api, {"limit": 2, "in_stock": "true"}) == (["P1", "P3", "P5"], 2)
    assert _all_pages(api, {"limit": 7}) == ([f"P{n}" for n in range(7)], 1)


def test_a_product_changed_between_pages_moves_to_the_end(catalogue: Catalogue, api: APIClient) -> None:
    products = [catalogue.product(f"P{n}") for n in range(4)]
    first = api.get(PRODUCTS, {"limit": 2}).json()

    product_content_update(product=products[0], content={"title": "changed"})
    second = api.get(first["next"]).json()

    assert [p["sku"] for p in second["results"]] == ["P2", "P3"]
    assert [p["sku"] for p in api.get(second["next"]).json()["results"]] == ["P0"]


@pytest.mark.parametrize(
    "params",
    [{"limit": "101"}, {"limit": "0"}, {"limit": "10000000000000000000000"}, {"limit": "x"},
     {"cursor": "garbage"}, {"cursor": "Zm9vfGJhcg"}, {"in_stock": "maybe"}, {"category": "TOOLONG"}],
)  # fmt: skip
def test_bad_list_parameters_are_400(catalogue: Catalogue, api: APIClient, params: dict[str, str]) -> None:
    response = api.get(PRODUCTS, params)

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"


def test_unknown_query_parameters_are_ignored(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A")

    assert skus(api.get(PRODUCTS, {"colour": "red", "page": "2"})) == ["A"]


def test_a_page_takes_the_same_number_of_queries_whatever_its_size(
    catalogue: Catalogue, api: APIClient, django_assert_max_num_queries: Any
) -> None:
    for n in range(3):
        catalogue.product(f"S{n}", stock={900: 1, 1: 1})
    api.get(PRODUCTS)  # warm the client's last use
    with CaptureQueriesContext(connection) as small:
        assert len(skus(api.get(PRODUCTS))) == 3
    for n in range(3, 40):
        catalogue.product(f"S{n}", stock={900: 1, 1: 1})
    with django_assert_max_num_queries(len(small)):
        assert len(skus(api.get(PRODUCTS))) == 40


# --- Content ----------------------------------------------------------------------------------


def content(api: APIClient, sku: str, body: Any, **kwargs: Any) -> Any:
    return api.patch(f"{PRODUCTS}{sku}/content/", body, format="json", **kwargs)


def test_content_patch_saves_storefront_fields(catalogue: Catalogue, api: APIClient) -> None:
    product = catalogue.product("A", title="old", long_description="keep")

    response = content(
        api,
        "A",
        {
            "title": "Perceuse 18 V",
            "images": ["https://cdn/a.jpg"],
            "attributes": {"colour": "red", "tags": [1, 2]},
        },
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Perceuse 18 V"
    product.refresh_from_db()
    assert (product.title, product.long_description, product.images, product.attributes) == (
        "Perceuse 18 V", "keep", ["https://cdn/a.jpg"], {"colour": "red", "tags": [1, 2]},
    )  # fmt: skip


@pytest.mark.parametrize("field", ["price", "ean", "status", "category", "item_number"])
def test_content_patch_naming_an_as400_field_is_refused_whole(
    catalogue: Catalogue, api: APIClient, field: str
) -> None:
    product = catalogue.product("A", title="old")
    before = Product.objects.filter(pk=product.pk).values().get()

    response = content(api, "A", {"title": "new", field: "1.00"})

    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "field_owned_by_as400"
    assert error["detail"] == {"fields": [field], "owners": ["as400"]}
    assert Product.objects.filter(pk=product.pk).values().get() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"colour": "red"}, "unknown_field"),
        ({"title": ["x"]}, "validation_error"),
        ({"title": "x" * 201}, "validation_error"),
        ({"images": "https://cdn/a.jpg"}, "validation_error"),
        ({"attributes": ["a"]}, "validation_error"),
        ({"attributes": {"a": "b\x00"}}, "validation_error"),
        ({"title": "a\x00b"}, "validation_error"),
        (["title"], "validation_error"),
        ("title", "validation_error"),
    ],
)
def test_bad_content_is_400_and_writes_nothing(
    catalogue: Catalogue, api: APIClient, body: Any, code: str
) -> None:
    product = catalogue.product("A", title="old")

    response = content(api, "A", body)

    assert response.status_code == 400, response.json()
    assert error_of(response)["code"] == code
    product.refresh_from_db()
    assert product.title == "old"


def test_content_patch_needs_catalog_write(catalogue: Catalogue, make_api: MakeApi) -> None:
    catalogue.product("A")

    response = content(make_api(scopes=["catalog:read"]), "A", {"title": "x"})

    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"


def test_content_patch_of_a_hidden_product_is_404(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("OFF1", category=catalogue.off)

    assert error_of(content(api, "OFF1", {"title": "x"}))["code"] == "product_not_found"


def test_malformed_json_and_other_media_types(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A")

    malformed = api.generic("PATCH", f"{PRODUCTS}A/content/", '{"title": ', content_type="application/json")
    form = api.generic(
        "PATCH", f"{PRODUCTS}A/content/", "title=x", content_type="application/x-www-form-urlencoded"
    )

    assert (malformed.status_code, error_of(malformed)["code"]) == (400, "parse_error")
    assert (form.status_code, error_of(form)["code"]) == (415, "unsupported_media_type")
