"""The simulator against Shopify's documented contract for the pinned version (2026-10): option
values required on a variant input, ``barcodes`` beside the deprecated ``barcode``, the mandatory
``changeFromQuantity``, DateTimes in UTC with ``Z``, and a variable of the wrong type answered as a
GraphQL error naming it (never a dropped connection)."""

from __future__ import annotations

import re

import httpx

from integration.shopify.documents import document
from integration.shopify.simulator import ShopifySimulator
from tests.factories.shopify import SimAdmin

DEFAULT = [{"optionName": "Title", "name": "Default Title"}]
Z_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_a_variable_of_the_wrong_type_is_a_graphql_error_naming_it(shopify_sim: ShopifySimulator) -> None:
    # given: the Admin API
    admin = SimAdmin(shopify_sim)

    # when: a String where an Int is declared, an Int where a String is, variables that are no object
    first = admin.post(document("locations"), {"first": "abc"})
    both = admin.post(document("orders_updated_since"), {"first": "ten", "query": 1})
    listed = httpx.post(shopify_sim.graphql_url, json={"query": document("locations"), "variables": ["x"]},
                        headers={"X-Shopify-Access-Token": admin.token})  # fmt: skip

    # then: HTTP 200, no data, each error naming its variable and the value given
    assert first.status_code == 200
    assert "data" not in first.json()
    (error,) = first.json()["errors"]
    assert "$first" in error["message"]
    assert error["extensions"] == {"code": "INVALID_VARIABLE", "value": "abc"}
    assert [e["message"].split("'")[1] for e in both.json()["errors"]] == ["$first", "$query"]
    assert listed.status_code == 200
    assert listed.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_variant_input_needs_its_option_values(shopify_sim: ShopifySimulator) -> None:
    # when: a product whose variant has no optionValues
    body = SimAdmin(shopify_sim).run(
        "product_set", {"input": {"title": "Bol", "variants": [{"sku": "BOL-1", "price": "9.90"}]}}
    )

    # then: refused before anything is made, naming the field
    assert "optionValues" in body["errors"][0]["message"]
    assert "data" not in body
    assert shopify_sim.shop.state["products"] == {}


def test_barcodes_set_the_barcode_and_an_input_cannot_set_both(shopify_sim: ShopifySimulator) -> None:
    # given: a product made with barcodes
    admin = SimAdmin(shopify_sim)
    made = admin.data("product_set", {"input": {"title": "Bol", "variants": [
        {"sku": "BOL-1", "optionValues": DEFAULT, "barcodes": [{"value": "3012345678900"}, {"value": "X-2"}]}]}})  # fmt: skip
    product = made["productSet"]["product"]

    # when: again with barcode and barcodes together; then with an empty set
    both = admin.data("product_set", {"identifier": {"id": product["id"]}, "input": {"variants": [
        {"sku": "BOL-1", "optionValues": DEFAULT, "barcode": "1", "barcodes": [{"value": "2"}]}]}})  # fmt: skip
    cleared = admin.data("product_set", {"identifier": {"id": product["id"]}, "input": {"variants": [
        {"sku": "BOL-1", "optionValues": DEFAULT, "barcodes": []}]}})  # fmt: skip

    # then: barcode reads the first of the set; both refused naming barcodes; the empty set clears it
    assert product["variants"]["nodes"][0]["barcode"] == "3012345678900"
    assert both["productSet"]["product"] is None
    assert both["productSet"]["userErrors"][0]["field"] == ["input", "variants", "0", "barcodes"]
    assert cleared["productSet"]["product"]["variants"]["nodes"][0]["barcode"] is None


def test_change_from_quantity_must_be_given(shopify_sim: ShopifySimulator) -> None:
    # given: an item at the warehouse
    admin = SimAdmin(shopify_sim)
    product = admin.product_create("Bol", {"sku": "BOL-1", "price": "12.00"})
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    warehouse = admin.location_ids()["Entrepôt"]

    def set_to(row: dict) -> dict:
        return admin.data("inventory_set_quantities", {"input": {
            "name": "available", "reason": "correction", "referenceDocumentUri": "logistics://sync/1",
            "quantities": [{"inventoryItemId": item, "locationId": warehouse, **row}]}})["inventorySetQuantities"]  # fmt: skip

    # when: without changeFromQuantity, then with null (the compare skipped)
    missing = set_to({"quantity": 5})
    skipped = set_to({"quantity": 5, "changeFromQuantity": None})

    # then: the first refused naming the field and nothing set; the second sets
    assert missing["userErrors"][0]["field"][-1] == "changeFromQuantity"
    assert missing["inventoryAdjustmentGroup"] is None
    assert skipped["userErrors"] == []
    assert shopify_sim.available("BOL-1", "Entrepôt") == 5


def test_date_times_are_utc_with_z(shopify_sim: ShopifySimulator) -> None:
    # given: a product, an order, a bulk operation
    admin = SimAdmin(shopify_sim)
    admin.product_create("Bol", {"sku": "BOL-1", "price": "12.00"})
    shopify_sim.set_available("BOL-1", 3)
    order = shopify_sim.checkout(lines=[{"sku": "BOL-1", "quantity": 1}])
    run = admin.data("bulk_run_query", {"query": "{ products { edges { node { id } } } }"})

    # when: their DateTimes are read through the Admin API
    read = admin.post("{ products(first: 5) { nodes { createdAt updatedAt variants(first: 5) { nodes { createdAt updatedAt } } } }"
                      " orders(first: 5) { nodes { createdAt updatedAt processedAt } } }").json()["data"]  # fmt: skip
    stamps = [read["products"]["nodes"][0][k] for k in ("createdAt", "updatedAt")]
    stamps += [read["products"]["nodes"][0]["variants"]["nodes"][0][k] for k in ("createdAt", "updatedAt")]
    stamps += [read["orders"]["nodes"][0][k] for k in ("createdAt", "updatedAt", "processedAt")]
    op = shopify_sim.bulk_wait(run["bulkOperationRunQuery"]["bulkOperation"]["id"])
    bulk = admin.post("query Op($id: ID!) { node(id: $id) { ... on BulkOperation { createdAt completedAt } } }",
                      {"id": run["bulkOperationRunQuery"]["bulkOperation"]["id"]}).json()["data"]["node"]  # fmt: skip
    stamps += [bulk["createdAt"], bulk["completedAt"]]

    # then: every one is ISO 8601 in UTC, to the second, with Z (the REST webhook bodies keep the shop's offset)
    assert op["status"] == "COMPLETED"
    assert all(Z_FORM.fullmatch(s) for s in stamps), stamps
    assert re.fullmatch(r".*[+-]\d\d:\d\d", order["created_at"])


def test_inventory_activate_stocks_an_item_at_a_new_location_and_needs_a_key(shopify_sim: ShopifySimulator) -> None:
    # given: an item made before a location opened (not stocked there)
    admin = SimAdmin(shopify_sim)
    item = admin.product_create("Bol", {"sku": "BOL-1", "price": "12.00"})["variants"]["nodes"][0]["inventoryItem"]["id"]
    store = shopify_sim.location_add("Boutique Nantes", pickup=True, fulfills_online_orders=False)
    location = f"gid://shopify/Location/{store['id']}"
    variables = {"inventoryItemId": item, "locationId": location}

    # when: activated without an idempotency key, then with one
    keyless = admin.run("inventory_activate", variables)
    keyed = admin.post(document("inventory_activate").replace(
        "inventoryActivate(inventoryItemId: $inventoryItemId, locationId: $locationId)",
        'inventoryActivate(inventoryItemId: $inventoryItemId, locationId: $locationId) @idempotent(key: "a-1")'),
        variables).json()  # fmt: skip

    # then: refused without a key; with it a level at 0 there
    assert keyless["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    level = keyed["data"]["inventoryActivate"]["inventoryLevel"]
    assert level["location"]["id"] == location
    assert level["quantities"] == [{"name": "available", "quantity": 0}]
