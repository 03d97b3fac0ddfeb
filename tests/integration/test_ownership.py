"""The one declaration of field ownership covers every product field, and refuses crossed writes."""

from __future__ import annotations

import pytest

from integration.core.ownership import (
    PRODUCT_FIELDS,
    FieldOwnershipError,
    System,
    check_product_write,
    fields_owned_by,
)
from inventory.models import Product

BOOKKEEPING = {"id", "created_at", "updated_at"}


def test_every_product_field_has_exactly_one_owner() -> None:
    model_fields = {f.name for f in Product._meta.concrete_fields} - BOOKKEEPING

    assert set(PRODUCT_FIELDS) == model_fields


def test_the_as400_owns_its_fields_and_the_storefront_its_own() -> None:
    assert set(fields_owned_by(System.AS400)) == {
        "item_number", "ean", "as400_description", "category", "price", "vat_code", "status", "as400_changed_on",
    }  # fmt: skip
    assert set(fields_owned_by(System.STOREFRONT)) == {"title", "long_description", "images", "attributes"}


def test_a_storefront_write_to_an_as400_field_is_refused_with_a_stable_code() -> None:
    check_product_write(System.STOREFRONT, ["title", "images"])

    with pytest.raises(FieldOwnershipError) as excinfo:
        check_product_write(System.STOREFRONT, ["title", "price"])

    assert excinfo.value.code == "field_owned_by_as400"
    assert excinfo.value.fields == ["price"]


def test_an_as400_import_never_writes_a_storefront_field() -> None:
    with pytest.raises(FieldOwnershipError, match="as400 may not write title"):
        check_product_write(System.AS400, ["price", "title"])


def test_an_undeclared_field_is_refused() -> None:
    with pytest.raises(FieldOwnershipError) as excinfo:
        check_product_write(System.STOREFRONT, ["colour"])

    assert excinfo.value.code == "unknown_field"
