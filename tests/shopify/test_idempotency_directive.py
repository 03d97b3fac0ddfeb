"""The ``@idempotent(key:)`` directive the client puts on a mutation's root field: still a valid
document against the vendored schema, the key escaped, a query refused."""

from __future__ import annotations

import graphql
import pytest

from integration.shopify.client import with_idempotency_key
from integration.shopify.documents import document, document_errors


def test_the_key_goes_on_the_mutations_root_field_and_the_document_stays_valid() -> None:
    # given a mutation of the connector
    source = document("inventory_set_quantities")

    # when a key is added
    keyed = with_idempotency_key(source, 'push-42-"quoted"')

    # then the root field carries it, escaped, and the schema still accepts the document
    [operation] = graphql.parse(keyed).definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    [root] = operation.selection_set.selections
    assert isinstance(root, graphql.FieldNode)
    assert root.name.value == "inventorySetQuantities"
    [directive] = root.directives or ()
    assert directive.name.value == "idempotent"
    [argument] = directive.arguments
    assert (argument.name.value, getattr(argument.value, "value", None)) == ("key", 'push-42-"quoted"')
    assert document_errors(keyed) == []


def test_a_key_given_twice_is_put_once() -> None:
    once = with_idempotency_key(document("order_cancel"), "k1")

    assert with_idempotency_key(once, "k1").count("@idempotent") == 1


def test_a_query_takes_no_idempotency_key() -> None:
    with pytest.raises(ValueError, match="one mutation"):
        with_idempotency_key(document("shop"), "k1")
