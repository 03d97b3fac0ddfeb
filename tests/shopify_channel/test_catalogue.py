"""The catalogue in Shopify (shopify_channel.catalogue), against the Shopify simulator."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from integration.as400.codec import PARIS
from integration.models import StorefrontClient
from integration.shopify.models import WebhookEvent
from integration.shopify.webhooks import webhook_event_apply
from inventory.models import Product
from shopify_channel.catalogue import catalogue_push, shopify_product_updated
from shopify_channel.models import OwnershipViolation, ShopifyProduct
from tests.factories.inventory import Catalogue
from tests.factories.shopify_channel import Shop
from tests.factories.shopify_connector import deliver

pytestmark = pytest.mark.django_db


def _sellable(catalogue: Catalogue, sku: str, **fields: object) -> Product:
    product = catalogue.product(sku)
    Product.objects.filter(pk=product.pk).update(
        **{"ean": "3012345678900", "price": "12.50", "vat_code": "1", **fields}
    )
    product.refresh_from_db()
    return product


def test_sellable_products_are_published_with_the_as400_fields_and_nothing_else_is(
    shop: Shop, catalogue: Catalogue
) -> None:
    # Given a live product, a pilot one (Shopify does not see pilot), an off one, a suspended one, an unmapped one
    _sellable(catalogue, "LIVE1", title="Chaise longue")
    catalogue.product("PILOT1", category=catalogue.pilot)
    catalogue.product("OFF1", category=catalogue.off)
    catalogue.product("SUSP1", status="S")
    catalogue.product("NOMAP1", mapped=False)

    # When the catalogue is pushed
    report = catalogue_push(client=shop.client)

    # Then only the sellable product is in Shopify, with the AS400's fields
    products = shop.products()
    assert set(products) == {"LIVE1"}
    live = products["LIVE1"]
    assert (live["status"], live["barcode"], Decimal(live["price"]), live["taxable"]) == (
        "ACTIVE", "3012345678900", Decimal("12.50"), True,
    )  # fmt: skip
    assert live["title"] == "Chaise longue"
    link = ShopifyProduct.objects.get(product__item_number="LIVE1")
    assert link.state == ShopifyProduct.State.PUSHED
    assert (link.shopify_product_id, link.inventory_item_id) == (live["id"], live["item"])
    assert (report.created, report.failed, report.bulk) == (1, 0, False)


def test_pilot_products_are_published_when_the_shopify_client_sees_pilot(
    shop: Shop, catalogue: Catalogue
) -> None:
    StorefrontClient.objects.create(name="shopify", token_prefix="x", token_hash="0" * 64, can_see_pilot=True)
    catalogue.product("PILOT1", category=catalogue.pilot)

    catalogue_push(client=shop.client)

    assert set(shop.products()) == {"PILOT1"}


def test_a_product_that_stops_being_sellable_is_unpublished_never_deleted(
    shop: Shop, catalogue: Catalogue
) -> None:
    suspended, delisted = catalogue.product("GOES1"), catalogue.product("GOES2")
    catalogue_push(client=shop.client)

    # When the AS400 suspends one and delists the other
    Product.objects.filter(pk=suspended.pk).update(status=Product.Status.SUSPENDED)
    Product.objects.filter(pk=delisted.pk).update(status=Product.Status.DELISTED)
    report = catalogue_push(client=shop.client)

    # Then both are still in Shopify: draft and archived
    products = shop.products()
    assert (products["GOES1"]["status"], products["GOES2"]["status"]) == ("DRAFT", "ARCHIVED")
    assert report.unpublished == 2
    assert set(ShopifyProduct.objects.values_list("state", flat=True)) == {ShopifyProduct.State.UNPUBLISHED}

    # And when it sells again it is active again, the same product
    Product.objects.filter(pk=suspended.pk).update(status=Product.Status.ACTIVE)
    catalogue_push(client=shop.client)
    assert shop.product("GOES1")["status"] == "ACTIVE"
    assert shop.product("GOES1")["id"] == products["GOES1"]["id"]


def test_the_title_is_sent_once_when_creating_never_after(shop: Shop, catalogue: Catalogue) -> None:
    product = _sellable(catalogue, "TITLE1", title="Premier titre")
    catalogue_push(client=shop.client)

    # When our title and the price change
    Product.objects.filter(pk=product.pk).update(title="Autre titre", price="15.00")
    report = catalogue_push(client=shop.client)

    # Then the price is pushed, the title stays Shopify's
    pushed = shop.product("TITLE1")
    assert Decimal(pushed["price"]) == Decimal("15.00")
    assert pushed["title"] == "Premier titre"
    assert report.updated == 1


def test_an_unchanged_catalogue_pushes_nothing(shop: Shop, catalogue: Catalogue) -> None:
    catalogue.product("SAME1")
    catalogue_push(client=shop.client)

    report = catalogue_push(client=shop.client)

    assert (report.created, report.updated, report.calls) == (0, 0, 0)


def test_an_as400_field_changed_in_shopify_is_a_violation_put_back_by_the_next_push(
    shop: Shop, catalogue: Catalogue
) -> None:
    product = _sellable(catalogue, "OWN1", title="Titre")
    catalogue_push(client=shop.client)
    link = ShopifyProduct.objects.get(product=product)

    # When staff change the price and the title in Shopify's admin
    payload = shop.sim.product_update_in_admin("OWN1", title="Titre Shopify", price="1.00")
    violations = shopify_product_updated(payload)

    # Then Shopify's title is the product's storefront content, the price a violation
    product.refresh_from_db()
    assert product.title == "Titre Shopify"
    assert product.price == Decimal("12.50")
    assert [(v.field, v.shopify_value, v.our_value) for v in violations] == [("price", "1.00", "12.50")]
    assert Decimal(shop.product("OWN1")["price"]) == Decimal("1.00")

    # And the next push puts ours back and marks the violation fixed, without touching the title
    catalogue_push(client=shop.client)
    assert Decimal(shop.product("OWN1")["price"]) == Decimal("12.50")
    assert shop.product("OWN1")["title"] == "Titre Shopify"
    assert OwnershipViolation.objects.get().fixed_at is not None
    link.refresh_from_db()
    assert link.state == ShopifyProduct.State.PUSHED


def test_the_first_sync_of_many_products_is_one_bulk_operation(shop: Shop, catalogue: Catalogue) -> None:
    for n in range(250):
        catalogue.product(f"BULK{n:03d}")

    report = catalogue_push(client=shop.client, bulk_from=200)

    assert report.bulk
    assert (report.created, report.failed) == (250, 0)
    assert report.calls < 20  # staged upload, run, a few polls: not 250 productSet calls
    assert len(shop.products()) == 250
    assert ShopifyProduct.objects.exclude(inventory_item_id="").count() == 250


# The delivery helper's X-Shopify-Triggered-At is 2026-11-24 09:00Z: our pushes happen before it.
@pytest.mark.clock(datetime(2026, 11, 23, 15, 0, tzinfo=PARIS))
def test_a_products_update_webhook_through_the_intake_brings_shopify_fields_and_finds_violations(
    shop: Shop, catalogue: Catalogue, client: Client, settings: Any
) -> None:
    product = _sellable(catalogue, "HOOK1", title="Titre")
    catalogue_push(client=shop.client)

    # When staff edit the product in Shopify's admin, and Shopify's products/update is delivered to us
    payload = shop.sim.product_update_in_admin(
        "HOOK1", title="Titre revu", tags=["été", "jardin"], barcode="3000000000007"
    )
    response = deliver(
        client, "products/update", "evt-products-1", payload, secret=settings.SHOPIFY_CLIENT_SECRET
    )
    assert response.status_code == 200
    event = WebhookEvent.objects.get(event_id="evt-products-1")
    assert webhook_event_apply(event_id=event.pk) == "applied"

    # Then the title and tags are the product's content, the barcode a violation the next push fixes
    # (a products/update triggered before our last push would be stale: what it shows we overwrote since)
    product.refresh_from_db()
    assert (product.title, product.attributes) == ("Titre revu", {"tags": ["été", "jardin"]})
    assert list(OwnershipViolation.objects.values_list("field", "shopify_value", "our_value")) == [
        ("ean", "3000000000007", "3012345678900")
    ]
    catalogue_push(client=shop.client)
    assert shop.product("HOOK1")["barcode"] == "3012345678900"
    assert shop.product("HOOK1")["title"] == "Titre revu"
