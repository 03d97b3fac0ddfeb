"""Every validation message the API answers is a sentence a developer can show.

DRF's defaults ("Ensure this field has at least 1 elements.") are rewritten once
(``integration.storefront.api.messages``); the message says where (``lines[0].quantity: ...``).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from django.core.validators import EmailValidator, ProhibitNullCharactersValidator
from django.utils import translation
from rest_framework import fields, serializers
from rest_framework.test import APIClient
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from integration.storefront.api.messages import SENTENCES, sentence
from inventory.api import serializers as inventory_serializers
from orders.api import events as order_events
from orders.api import serializers as order_serializers
from returns.api import serializers as return_serializers
from tests.factories.api import CUSTOMER, error_of
from tests.factories.catalogue import Catalogue

RESERVATIONS = "/api/v1/reservations/"
ORDER = {
    "order_number": "WEB-1",
    "reservation": "0b7d4a52-5c1e-4d8e-9a56-3f0e2b9c1d11",
    "delivery": "home",
    "customer": CUSTOMER,
    "lines": [{"sku": "A", "quantity": 1, "unit_price": "9.90"}],
}


@pytest.mark.parametrize(
    ("url", "body", "message", "detail"),
    [
        (
            RESERVATIONS,
            {"lines": []},
            "lines: This list needs at least 1 item.",
            {"lines": {"non_field_errors": ["This list needs at least 1 item."]}},
        ),
        (
            RESERVATIONS,
            {"lines": [{"sku": "A"}]},
            "lines[0].quantity: This field is required.",
            {"lines": {"0": {"quantity": ["This field is required."]}}},
        ),
        (
            RESERVATIONS,
            {"lines": [{"sku": "A", "quantity": 0}]},
            "lines[0].quantity: This must be at least 1.",
            None,
        ),
        (RESERVATIONS, {"lines": None}, "lines: This field cannot be null.", None),
        (RESERVATIONS, {"lines": {"sku": "A"}}, "lines: This must be a JSON array, not an object.", None),
        (RESERVATIONS, ["lines"], "This must be a JSON object, not an array.", None),
        (RESERVATIONS, {"lines": ["A"]}, "lines[0]: This must be a JSON object, not a string.", None),
        (
            "/api/v1/orders/",
            {**ORDER, "delivery": "drone"},
            'delivery: "drone" is not one of the values this field takes.',
            None,
        ),
        (
            "/api/v1/orders/",
            {**ORDER, "order_number": "W" * 21},
            "order_number: This must be at most 20 characters long.",
            None,
        ),
        (
            "/api/v1/orders/",
            {**ORDER, "customer": {**CUSTOMER, "last_name": ""}},
            "customer.last_name: This field cannot be empty.",
            None,
        ),
        (
            "/api/v1/orders/",
            {**ORDER, "customer": "Lefèvre"},
            "customer: This must be a JSON object, not a string.",
            None,
        ),
        (
            "/api/v1/orders/",
            {**ORDER, "customer": {**CUSTOMER, "email": "nope"}},
            "customer.email: This must be an email address.",
            None,
        ),
    ],
)
def test_validation_messages_are_sentences_that_say_where(
    catalogue: Catalogue, api: APIClient, url: str, body: Any, message: str, detail: dict[str, Any] | None
) -> None:
    response = api.post(url, body, format="json")

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["message"] == f"invalid input: {message}"
    if detail is not None:
        assert error["detail"] == detail


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "many"}, "limit: This must be an integer."),
        ({"limit": "0"}, "limit: This must be at least 1."),
        ({"in_stock": "maybe"}, "in_stock: This must be true or false."),
        (
            {"updated_since": "yesterday"},
            "updated_since: This must be an ISO 8601 date and time, such as 2026-11-24T09:30:00Z or "
            "2026-11-24T10:30:00+01:00.",
        ),
    ],
)
def test_query_parameters_have_sentences_too(
    catalogue: Catalogue, api: APIClient, query: dict[str, str], message: str
) -> None:
    response = api.get("/api/v1/products/", query)

    assert response.status_code == 400
    assert error_of(response)["message"] == f"invalid input: {message}"


def test_numbers_take_their_noun_in_the_singular_or_the_plural() -> None:
    assert sentence("Ensure this field has at least 1 elements.") == "This list needs at least 1 item."
    assert sentence("Ensure this field has at least 2 elements.") == "This list needs at least 2 items."
    assert (
        sentence("Ensure this field has no more than 1 characters.")
        == "This must be at most 1 character long."
    )
    assert sentence("Our own message.") == "Our own message."


def _drf_templates() -> dict[int, str]:
    """DRF's (and its validators') default messages, by the identity of the lazy string."""
    found: dict[int, str] = {}
    for module in (fields, serializers):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            for message in cls.__dict__.get("default_error_messages", {}).values():
                found[id(message)] = str(message)
    for validator in (ProhibitSurrogateCharactersValidator, ProhibitNullCharactersValidator, EmailValidator):
        found[id(validator.message)] = str(validator.message)
    return found


def _fields(field: Any) -> list[Any]:
    out = [field]
    if isinstance(field, serializers.ListSerializer):
        out += _fields(field.child)
    elif isinstance(field, serializers.Serializer):
        out += [f for inner in field.fields.values() for f in _fields(inner)]
    elif isinstance(field, serializers.ListField | serializers.DictField):
        out += _fields(field.child)
    return out


def test_every_drf_default_message_an_input_can_answer_has_its_sentence() -> None:
    with translation.override("en"):
        templates = _drf_templates()
        inputs = [
            cls()
            for module in (inventory_serializers, order_serializers, order_events, return_serializers)
            for name, cls in inspect.getmembers(module, inspect.isclass)
            if name.endswith("InputSerializer") and cls.__module__ == module.__name__
        ]
        missing = {
            (type(field).__name__, key, templates[id(message)])
            for serializer in inputs
            for field in _fields(serializer)
            for key, message in field.error_messages.items()
            if id(message) in templates and templates[id(message)] not in SENTENCES
        }
        stale = set(SENTENCES) - set(templates.values())

    assert len(inputs) >= 10
    assert not missing  # a DRF default message an answer can carry, without its sentence
    assert not stale  # a key DRF (after an upgrade) no longer writes
