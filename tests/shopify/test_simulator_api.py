"""The Shopify simulator's Admin API, driven with plain httpx: the token, auth, versions, validation,
cost and throttling, @idempotent, products, inventory and compare-and-set."""

from __future__ import annotations

import httpx

from integration.shopify.documents import document
from integration.shopify.simulator import ShopifySimulator
from tests.factories.shopify import SimAdmin, sim_token


def test_the_client_credentials_grant_gives_a_token_and_a_wrong_secret_is_refused(
    shopify_sim: ShopifySimulator,
) -> None:
    # when: the app asks with its credentials, then with a wrong secret
    good = httpx.post(f"{shopify_sim.url}/admin/oauth/access_token", json={
        "grant_type": "client_credentials", "client_id": shopify_sim.client_id,
        "client_secret": shopify_sim.client_secret})  # fmt: skip
    bad = httpx.post(f"{shopify_sim.url}/admin/oauth/access_token", data={
        "grant_type": "client_credentials", "client_id": shopify_sim.client_id, "client_secret": "nope"})  # fmt: skip

    # then: a token for a day, and invalid_client
    assert good.status_code == 200
    assert good.json()["expires_in"] == 86399
    assert good.json()["access_token"].startswith("shpat_")
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_graphql_needs_a_valid_token_and_the_pinned_version(shopify_sim: ShopifySimulator) -> None:
    # given: a token
    token = sim_token(shopify_sim)
    body = {"query": document("shop")}

    # when: without a token, with an unknown version, with an expired token
    without = httpx.post(shopify_sim.graphql_url, json=body)
    wrong_version = httpx.post(f"{shopify_sim.url}/admin/api/2019-01/graphql.json", json=body,
                               headers={"X-Shopify-Access-Token": token})  # fmt: skip
    good = httpx.post(shopify_sim.graphql_url, json=body, headers={"X-Shopify-Access-Token": token})
    shopify_sim.expire_tokens()
    expired = httpx.post(shopify_sim.graphql_url, json=body, headers={"X-Shopify-Access-Token": token})

    # then
    assert without.status_code == 401
    assert "Invalid API key or access token" in without.json()["errors"]
    assert wrong_version.status_code == 404
    assert good.json()["data"]["shop"]["myshopifyDomain"] == "test-shop.myshopify.com"
    assert expired.status_code == 401


def test_a_malformed_query_answers_errors_with_locations_and_no_data(shopify_sim: ShopifySimulator) -> None:
    # given
    admin = SimAdmin(shopify_sim)

    # when: a field the schema lacks, and a query cut short
    unknown = admin.post("{ shop { nonsense } }")
    cut = admin.post("{ shop { id ")

    # then: HTTP 200 with errors, as Shopify answers
    assert unknown.status_code == 200
    assert "nonsense" in unknown.json()["errors"][0]["message"]
    assert unknown.json()["errors"][0]["locations"] == [{"line": 1, "column": 10}]
    assert "data" not in unknown.json()
    assert "Syntax Error" in cut.json()["errors"][0]["message"]


def test_every_answer_carries_its_cost_and_the_bucket_drains(shopify_sim: ShopifySimulator) -> None:
    # given
    admin = SimAdmin(shopify_sim)

    # when: two queries
    first = admin.run("locations", {"first": 10})["extensions"]["cost"]
    second = admin.run("locations", {"first": 10})["extensions"]["cost"]

    # then: requested by the page size, the bucket Shopify's (2000, 100/s) and less available
    assert first["requestedQueryCost"] > first["actualQueryCost"] > 0
    assert first["throttleStatus"]["maximumAvailable"] == 2000.0
    assert first["throttleStatus"]["restoreRate"] == 100.0
    assert second["throttleStatus"]["currentlyAvailable"] < 2000.0


def test_a_small_bucket_answers_throttled_with_http_200(shopify_sim: ShopifySimulator) -> None:
    # given: a bucket of 25 points restoring 1 a second
    admin = SimAdmin(shopify_sim)
    shopify_sim.fault_throttle(maximum=25.0, rate=1.0)

    # when: mutations of 10 points each
    answers = [
        admin.run("webhook_subscription_delete", {"id": "gid://shopify/WebhookSubscription/1"})
        for _ in range(4)
    ]

    # then: the bucket empties and the next call is THROTTLED, with the bucket's status
    throttled = [a for a in answers if "errors" in a]
    assert throttled
    assert throttled[0]["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled[0]["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 25.0


def test_product_set_creates_then_syncs_variants_a_sku_may_repeat_a_handle_may_not(shopify_sim: ShopifySimulator) -> None:
    # given: a product with two variants
    admin = SimAdmin(shopify_sim)
    product = admin.product_create("Pull marin", {"sku": "PULL-S", "price": "49.9", "barcode": "3700000000011"},
                                   {"sku": "PULL-M", "price": "49.90"})  # fmt: skip

    # when: productSet again by id with one variant changed and one gone; another product takes PULL-S
    size = [{"optionName": "Title", "name": "PULL-S"}]
    again = admin.data("product_set", {"input": {"variants": [{"sku": "PULL-S", "price": "39.90", "taxable": False,
                                                               "optionValues": size}]},
                                       "identifier": {"id": product["id"]}})  # fmt: skip
    twin = admin.data("product_set", {"input": {"title": "Autre", "variants": [{"sku": "PULL-S", "optionValues": size}]}})

    # then: money as decimal strings, the variant list is the one given; Shopify does not keep a SKU
    # unique: the second product is made, with a variant of its own
    assert [v["price"] for v in product["variants"]["nodes"]] == ["49.90", "49.90"]
    variants = again["productSet"]["product"]["variants"]["nodes"]
    assert [(v["sku"], v["price"], v["taxable"]) for v in variants] == [("PULL-S", "39.90", False)]
    assert variants[0]["id"] == product["variants"]["nodes"][0]["id"]
    made = twin["productSet"]["product"]
    assert twin["productSet"]["userErrors"] == []
    assert made["id"] != product["id"]
    assert made["variants"]["nodes"][0]["id"] != variants[0]["id"]
    skus = admin.data("product_variants_by_sku", {"query": "sku:'PULL-S'"})["productVariants"]["nodes"]
    assert sorted(v["product"]["id"] for v in skus) == sorted([product["id"], made["id"]])

    # and: a handle is unique: given for a new product it is refused; as the identifier it is an upsert
    handle = admin.data("product_by_handle", {"query": "handle:'pull-marin'"})["products"]["nodes"]
    assert [p["id"] for p in handle] == [product["id"]]
    taken = admin.data("product_set", {"input": {"title": "Pull", "handle": "pull-marin",
                                                 "variants": [{"sku": "PULL-L", "optionValues": size}]}})  # fmt: skip
    assert taken["productSet"]["product"] is None
    assert taken["productSet"]["userErrors"][0]["field"] == ["input", "handle"]
    upsert = admin.data("product_set", {"input": {"title": "Pull", "handle": "pull-marin",
                                                  "variants": [{"sku": "PULL-S", "optionValues": size}]},
                                        "identifier": {"handle": "pull-marin"}})  # fmt: skip
    assert upsert["productSet"]["product"]["id"] == product["id"]


def test_inventory_set_quantities_is_compare_and_set(shopify_sim: ShopifySimulator) -> None:
    # given: an item at the warehouse, 0 available
    admin = SimAdmin(shopify_sim)
    product = admin.product_create("Bol", {"sku": "BOL-1", "price": "12.00"})
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    warehouse = admin.location_ids()["Entrepôt"]

    def set_to(quantity: int, change_from: int) -> dict:
        return admin.data("inventory_set_quantities", {"input": {
            "name": "available", "reason": "correction", "referenceDocumentUri": "logistics://sync/1",
            "quantities": [{"inventoryItemId": item, "locationId": warehouse, "quantity": quantity,
                            "changeFromQuantity": change_from}]}})["inventorySetQuantities"]  # fmt: skip

    # when: set to 7 from 0, then to 3 claiming it was still 0
    first = set_to(7, 0)
    stale = set_to(3, 0)
    levels = admin.data("inventory_levels", {"ids": [item]})["nodes"][0]["inventoryLevels"]["nodes"]

    # then: the first applies, the second is refused and changes nothing
    assert first["userErrors"] == []
    assert stale["inventoryAdjustmentGroup"] is None
    assert stale["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    at_warehouse = next(lv for lv in levels if lv["location"]["id"] == warehouse)
    assert {q["name"]: q["quantity"] for q in at_warehouse["quantities"]} == {
        "available": 7,
        "on_hand": 7,
        "committed": 0,
    }
    assert shopify_sim.available("BOL-1") == 7


def test_the_same_idempotency_key_replays_the_first_answer(shopify_sim: ShopifySimulator) -> None:
    # given: a mutation marked @idempotent
    admin = SimAdmin(shopify_sim)
    text = document("webhook_subscription_create").replace(
        "webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription)",
        'webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) @idempotent(key: "k-1")',
    )
    variables = {
        "topic": "ORDERS_CREATE",
        "webhookSubscription": {"uri": "http://127.0.0.1:9/hook", "format": "JSON"},
    }

    # when: sent twice
    first = admin.post(text, variables).json()["data"]["webhookSubscriptionCreate"]
    second = admin.post(text, variables).json()["data"]["webhookSubscriptionCreate"]

    # then: one subscription, the same answer twice (without the key the second is refused)
    assert first == second
    assert first["userErrors"] == []
    assert len(admin.data("webhook_subscriptions", {"first": 10})["webhookSubscriptions"]["nodes"]) == 1


def test_server_errors_then_recovery(shopify_sim: ShopifySimulator) -> None:
    # given: the next two calls fail
    admin = SimAdmin(shopify_sim)
    shopify_sim.fault_server_errors(2)

    # when
    statuses = [admin.post(document("shop")).status_code for _ in range(3)]

    # then
    assert statuses == [503, 503, 200]
