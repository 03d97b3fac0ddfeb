"""The storefront API's fixtures: a small catalogue, storefront clients and their API clients.

Each test counts rate limits under its own cache prefix, so that tests (and xdist workers sharing
one Redis) never see each other's counts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from pytest_django import Settings
from rest_framework.test import APIClient

from integration.models import StorefrontClient
from integration.storefront.clients import storefront_client_create
from inventory.models import Category, ItemMapping, Location, Product, StockLevel

AS_OF = datetime.fromisoformat("2026-11-22T03:45:00+01:00")
ALL_SCOPES = list(StorefrontClient.Scope.values)


@pytest.fixture(autouse=True)
def own_rate_counts(settings: Settings) -> None:
    caches = {name: dict(config) for name, config in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


class Catalogue:
    """Warehouse 900, click-and-collect stores 1 and 2, store 3 without; live, pilot and off families."""

    def __init__(self) -> None:
        Location.objects.bulk_create(
            [
                Location(code=900, name="Entrepôt", kind=Location.Kind.WAREHOUSE),
                Location(code=1, name="Paris", click_and_collect=True),
                Location(code=2, name="Lyon", click_and_collect=True),
                Location(code=3, name="Lille", click_and_collect=False),
            ]
        )
        self.live = Category.objects.create(family_code="LIVE", name="Outillage", rollout_stage="live")
        self.pilot = Category.objects.create(family_code="PILO", name="Jardin", rollout_stage="pilot")
        self.off = Category.objects.create(family_code="OFF", name="Cuisine", rollout_stage="off")

    def product(
        self,
        sku: str,
        *,
        stock: dict[int, int] | None = None,
        category: Category | None = None,
        status: str = "A",
        mapped: bool = True,
        price: str = "9.90",
        **fields: Any,
    ) -> Product:
        product = Product.objects.create(
            item_number=f"I{sku}"[:15],
            category=category or self.live,
            price=Decimal(price),
            status=status,
            **fields,
        )
        if mapped:
            ItemMapping.objects.create(product=product, sku=sku)
        for location, on_hand in (stock if stock is not None else {900: 10}).items():
            StockLevel.objects.create(product=product, location_id=location, on_hand=on_hand, as_of=AS_OF)
        return product


@pytest.fixture
def catalogue(db: None) -> Catalogue:
    return Catalogue()


MakeApi = Callable[..., APIClient]


@pytest.fixture
def make_api(db: None) -> MakeApi:
    """make_api(name="shop", scopes=ALL_SCOPES, pilot=False, rate=10_000) → an APIClient with its token."""
    counter = iter(range(1_000_000))

    def make(
        name: str | None = None, *, scopes: list[str] | None = None, pilot: bool = False, rate: int = 10_000
    ) -> APIClient:
        client, token = storefront_client_create(
            name=name or f"shop-{next(counter)}",
            scopes=ALL_SCOPES if scopes is None else scopes,
            can_see_pilot=pilot,
            rate_limit=rate,
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        api.storefront_client = client  # type: ignore[attr-defined]
        api.token = token  # type: ignore[attr-defined]
        return api

    return make


@pytest.fixture
def api(make_api: MakeApi) -> APIClient:
    """A client with every scope, that does not see pilot categories."""
    return make_api("shop")


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
