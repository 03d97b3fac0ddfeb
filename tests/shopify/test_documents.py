"""The connector's GraphQL documents against the vendored schema (integration/shopify/documents.py)."""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

from integration.shopify import documents

NAMES_THE_PARTS_USE = {
    "shop", "locations", "product_set", "products_page", "inventory_set_quantities",
    "inventory_levels", "staged_uploads_create", "bulk_run_mutation", "bulk_run_query",
    "bulk_operation", "orders_updated_since", "order", "fulfillment_orders", "fulfillment_create",
    "prepared_for_pickup", "order_cancel", "refund_create", "webhook_subscriptions",
    "webhook_subscription_create", "webhook_subscription_delete",
}  # fmt: skip


def test_every_document_validates_against_the_schema() -> None:
    # given: every document file
    names = documents.document_names()

    # when: each is loaded
    texts = {name: documents.document(name) for name in names}

    # then: each is one operation, and every name the other parts rely on exists
    assert set(texts) >= NAMES_THE_PARTS_USE
    for name, text in texts.items():
        assert documents.document_errors(text) == [], name


def test_an_invalid_document_raises_naming_the_file_and_the_error(tmp_path: Path) -> None:
    # given: a document asking for a field the schema does not have
    path = tmp_path / "broken.graphql"
    path.write_text("query Broken { shop { id nonsense } }", encoding="utf-8")

    # when / then: loading it names the file and graphql-core's message
    with pytest.raises(documents.DocumentInvalid, match=r"broken\.graphql: .*nonsense.*Shop"):
        documents.validate_file(path)


def test_a_document_that_does_not_parse_raises_naming_the_file(tmp_path: Path) -> None:
    # given: a document cut short
    path = tmp_path / "cut.graphql"
    path.write_text("query Cut { shop { id ", encoding="utf-8")

    # when / then
    with pytest.raises(documents.DocumentInvalid, match=r"cut\.graphql: Syntax Error"):
        documents.validate_file(path)


def test_an_unknown_document_name_raises() -> None:
    # when / then
    with pytest.raises(documents.DocumentInvalid, match=r"no_such\.graphql: no such document"):
        documents.document("no_such")


def test_the_schema_has_the_idempotent_directive_and_the_stale_code() -> None:
    # given: the vendored schema
    schema = documents.schema()

    # then: what the client and the stock sync rely on is there, with Shopify's names
    assert schema.get_directive("idempotent") is not None
    codes = schema.get_type("InventorySetQuantitiesUserErrorCode")
    assert isinstance(codes, graphql.GraphQLEnumType)
    assert "CHANGE_FROM_QUANTITY_STALE" in codes.values
