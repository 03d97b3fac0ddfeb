"""The Shopify simulator's bulk operations: a staged upload of JSONL, bulkOperationRunMutation over
its lines (productSet), bulkOperationRunQuery to JSONL, polling by node, bulk_operations/finish."""

from __future__ import annotations

import json
import time

import httpx

from integration.shopify.documents import document
from integration.shopify.simulator import ShopifySimulator
from tests.factories.shopify import HookReceiver, SimAdmin


def poll(admin: SimAdmin, op_id: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        op = admin.data("bulk_operation", {"id": op_id})["node"]
        if op["status"] not in ("CREATED", "RUNNING"):
            return op
        time.sleep(0.05)
    raise AssertionError("the bulk operation did not finish")


def test_a_bulk_product_set_from_a_staged_upload(shopify_sim: ShopifySimulator) -> None:
    # given: a JSONL of three products, one of them invalid, staged the way Shopify says (multipart POST)
    admin = SimAdmin(shopify_sim)
    hooks = HookReceiver()
    shopify_sim.webhook_url = hooks.url
    default = [{"optionName": "Title", "name": "Default Title"}]
    lines = [
        {"input": {"title": f"Article {n}", "variants": [{"sku": f"ART-{n}", "price": "10.00", "optionValues": default}]}}
        for n in (1, 2)
    ]
    lines.append({"input": {"variants": [{"sku": "ART-3", "optionValues": default}]}})  # no title
    staged = admin.data("staged_uploads_create", {"input": [{
        "resource": "BULK_MUTATION_VARIABLES", "filename": "products.jsonl", "mimeType": "text/jsonl",
        "httpMethod": "POST"}]})["stagedUploadsCreate"]["stagedTargets"][0]  # fmt: skip
    fields = {p["name"]: p["value"] for p in staged["parameters"]}
    upload = httpx.post(
        staged["url"],
        data=fields,
        files={"file": ("products.jsonl", "\n".join(json.dumps(x) for x in lines))},
    )

    try:
        # when: the bulk mutation runs over it and is polled to its end
        run = admin.data("bulk_run_mutation", {"mutation": document("product_set_bulk"),
                                               "stagedUploadPath": fields["key"]})["bulkOperationRunMutation"]  # fmt: skip
        op = poll(admin, run["bulkOperation"]["id"])
        result = [json.loads(line) for line in httpx.get(op["url"]).text.splitlines()]
        assert shopify_sim.webhooks_wait()

        # then: two products made, the third's error in its line, the finish webhook sent
        assert upload.status_code == 201
        assert run["userErrors"] == []
        assert op["status"] == "COMPLETED"
        assert op["objectCount"] == "3"
        assert [r["__lineNumber"] for r in result] == [0, 1, 2]
        assert result[0]["data"]["productSet"]["product"]["variants"]["nodes"][0]["sku"] == "ART-1"
        assert result[2]["data"]["productSet"]["userErrors"][0]["message"] == "Title can't be blank"
        finish = [
            json.loads(r["body"])
            for r in hooks.accepted()
            if r["headers"]["X-Shopify-Topic"] == "bulk_operations/finish"
        ]
        assert finish == [
            {
                **finish[0],
                "admin_graphql_api_id": run["bulkOperation"]["id"],
                "status": "completed",
                "type": "mutation",
            }
        ]
    finally:
        hooks.close()


def test_a_bulk_mutation_without_its_upload_is_refused(shopify_sim: ShopifySimulator) -> None:
    # when
    admin = SimAdmin(shopify_sim)
    run = admin.data(
        "bulk_run_mutation", {"mutation": document("product_set_bulk"), "stagedUploadPath": "tmp/nothing"}
    )

    # then
    assert run["bulkOperationRunMutation"]["userErrors"][0]["code"] == "NO_SUCH_FILE"


def test_a_bulk_query_gives_jsonl_with_parent_ids(shopify_sim: ShopifySimulator) -> None:
    # given: a product with two variants, stock at the warehouse
    admin = SimAdmin(shopify_sim)
    admin.product_create("Pull", {"sku": "P-S", "price": "50.00"}, {"sku": "P-M", "price": "50.00"})
    shopify_sim.set_available("P-S", 4)

    # when: the catalogue query runs in bulk
    run = admin.data("bulk_run_query", {"query": document("bulk_catalogue_query")})["bulkOperationRunQuery"]
    op = poll(admin, run["bulkOperation"]["id"])
    current = admin.data("bulk_operation", {"id": run["bulkOperation"]["id"]})
    rows = [json.loads(line) for line in httpx.get(op["url"]).text.splitlines()]

    # then: the product, its variants under it, their levels under them
    assert current["node"]["status"] == "COMPLETED"
    product = rows[0]
    variants = [r for r in rows if r.get("__parentId") == product["id"]]
    assert [v["sku"] for v in variants] == ["P-S", "P-M"]
    levels = [r for r in rows if "quantities" in r]
    assert len(levels) == 6  # 2 variants x 3 locations
    assert op["rootObjectCount"] == "1"


def test_a_slow_api_answers_late(shopify_sim: ShopifySimulator) -> None:
    # given
    admin = SimAdmin(shopify_sim)
    shopify_sim.fault_slow(0.5)

    # when
    started = time.monotonic()
    admin.data("shop")

    # then
    assert time.monotonic() - started >= 0.5
