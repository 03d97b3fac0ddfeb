"""Order numbers and customer fields must come back from the AS400 exactly as sent, and say nothing of others.

An order number becomes the AS400's OHWEBN as it is; the AS400 pads it with blanks and strips them
when it reads it back, and every event it sends is matched on it. So an order number is refused
unless it is in one alphabet (no blank, no control character, nothing a URL path or the code page
would change), a customer field unless its ORDIMP field holds it whole, and another client's order
answers exactly as an unknown one. Real database, orders placed through the API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from integration.storefront.clients import storefront_client_create
from orders.models import Order
from tests.factories.api import MakeApi, error_of
from tests.factories.catalogue import Catalogue

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
CUSTOMER = {"last_name": "Lefèvre", "first_name": "Hélène", "city": "Lyon", "postal_code": "69003"}
#: The alphabet the README and the OpenAPI document give, written out here on purpose.
PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$"


@pytest.fixture
def shop(catalogue: Catalogue, api: APIClient) -> APIClient:
    catalogue.product("A", stock={900: 50}, price="9.90")
    return api


def place(api: APIClient, number: Any, unit_price: str = "9.90", **customer: Any) -> Any:
    """POST an order of 1 unit of A under ``number``, with CUSTOMER changed by ``customer``."""
    reservation = api.post("/api/v1/reservations/", {"lines": [{"sku": "A", "quantity": 1}]}, format="json")
    assert reservation.status_code == 201, reservation.content
    body = {
        "order_number": number, "reservation": reservation.json()["id"], "delivery": "home",
        "customer": {**CUSTOMER, **customer}, "lines": [{"sku": "A", "quantity": 1, "unit_price": unit_price}],
    }  # fmt: skip
    return api.post(ORDERS, body, format="json")


def refused_field(error: dict[str, Any]) -> str:
    """The one field an error names, whatever the code (``validation_error`` or the checkout's)."""
    detail = error["detail"] or {}
    if "field" in detail:
        return str(detail["field"])
    if "customer" in detail:
        (name,) = detail["customer"]
        return str(name)
    (name,) = detail
    return str(name)


# --- Order numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        " XC-B5B86D0E",  # a leading blank: another order than XC-B5B86D0E at the AS400, the same one for us
        "TRAIL-1 ",  # a trailing blank: read back as TRAIL-1, answered D
        " ",
        "\t",
        "A\tB",
        "A\n",  # `$` of a Python regex matches before a final newline
        "A\r\nB",
        "A B",
        "a/cancel",
        "a/events",
        "a?b",
        "a#b",
        "a%2Fb",
        "..",
        ".",
        ".hidden",
        "-A",
        "_A",
        "é-1",
        "WEB-œ-1",
        "Ｗ１",  # fullwidth letter and digit
        "٣",  # an Arabic-Indic digit: a digit to \d, not to the AS400
        "W" * 21,
        "",
    ],
)
def test_an_order_number_outside_the_alphabet_is_refused_400_naming_the_field(
    shop: APIClient, number: str
) -> None:
    # when
    response = place(shop, number)

    # then
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert refused_field(error) == "order_number"
    assert "order_number: " in error["message"]
    assert not Order.objects.exists()


@pytest.mark.parametrize("number", ["XC-B5B86D0E", "a", "9", "web-2026.000_1", "W" * 20])
def test_an_order_number_in_the_alphabet_is_placed_as_it_is(shop: APIClient, number: str) -> None:
    response = place(shop, number)

    assert response.status_code == 201, response.content
    assert response.json()["order_number"] == number
    assert shop.get(f"{ORDERS}{number}/").json()["order_number"] == number


def test_numbers_that_differ_only_by_case_are_two_orders(shop: APIClient) -> None:
    # The contract compares the bytes (no sort sequence in the DDS): the policy is case-sensitive.
    assert place(shop, "web-1").status_code == 201
    assert place(shop, "WEB-1").status_code == 201

    assert shop.get(f"{ORDERS}web-1/").json()["order_number"] == "web-1"
    assert shop.get(f"{ORDERS}WEB-1/").json()["order_number"] == "WEB-1"


@pytest.mark.parametrize("path", ["a%2Fb", "a%2Fb%2F", "a%252Fb", "b%2F..%2Fa"])
def test_an_encoded_number_in_the_path_returns_no_other_order(shop: APIClient, path: str) -> None:
    # given orders a and b, and an attempt to place orders whose numbers hold a slash or a percent
    assert place(shop, "a").status_code == 201
    assert place(shop, "b").status_code == 201
    place(shop, "a/b")
    place(shop, "a%2Fb")

    # when
    response = shop.get(f"{ORDERS}{path}/")

    # then nothing answers but "not found": no order of another number
    assert response.status_code == 404, response.content
    assert error_of(response)["code"] == "order_not_found"
    assert set(Order.objects.values_list("order_number", flat=True)) == {"a", "b"}


def test_a_storefront_client_name_follows_the_same_alphabet(db: None) -> None:
    for name in (" shop", "shop ", "sh op", "shop\n", "shop/1", ""):
        with pytest.raises(ValidationError):
            storefront_client_create(name=name, scopes=[])
    client, _ = storefront_client_create(name="next-store.fr_2", scopes=[])
    assert client.name == "next-store.fr_2"


# --- Customer fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({"last_name": "Dupont\r\nX-Forged: 1"}, "last_name"),
        ({"last_name": "Du\npont"}, "last_name"),
        ({"first_name": "Zo\x07é"}, "first_name"),
        ({"address_line1": "12 rue\tde la Paix"}, "address_line1"),
        ({"address_line2": "Bât. B\x85"}, "address_line2"),  # NEL, a C1 control
        ({"city": "Ly\u200bon"}, "city"),  # a zero-width space: nothing the AS400 shows
        ({"last_name": "   "}, "last_name"),
        ({"last_name": ""}, "last_name"),
        ({"country": "XX"}, "country"),
        ({"country": "fr"}, "country"),
        ({"country": "EU"}, "country"),
        ({"country": "F1"}, "country"),
        ({"country": "FRA"}, "country"),
        ({"postal_code": "690031"}, "postal_code"),
        ({"postal_code": "SW1A 1AA"}, "postal_code"),
        ({"city": "Saint-Étienne-de-Saint-Geoirs"}, "city"),  # 29 characters, OHVIL holds 25
        ({"last_name": "Œ" * 16}, "last_name"),  # 16 characters, 32 once folded: OHNOM holds 30
        ({"first_name": "F" * 21}, "first_name"),
        ({"address_line1": "A" * 31}, "address_line1"),
        ({"phone": "+33 6 12 34 56 78"}, "phone"),  # 17, OHTEL holds 15
        ({"email": "a" * 40 + "@example.fr"}, "email"),  # 51, OHMAIL holds 50
        ({"last_name": "Жуков"}, "last_name"),
    ],
)
def test_a_customer_field_the_as400_cannot_carry_exactly_is_refused_400_naming_it(
    shop: APIClient, customer: dict[str, Any], field: str
) -> None:
    # when
    response = place(shop, "WEB-1", **customer)

    # then
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] in {"validation_error", "invalid_order", "not_writable_for_the_as400"}
    assert refused_field(error) == field
    assert field in error["message"]
    assert not Order.objects.exists()


def test_customer_fields_that_fit_their_ordimp_fields_are_sent_whole(shop: APIClient) -> None:
    customer = {
        "last_name": "Œ" * 15,  # 30 once folded: exactly OHNOM
        "first_name": "F" * 20, "address_line1": "A" * 30, "address_line2": "B" * 30,
        "postal_code": "B-100", "city": "Saint-Étienne-de-Saint-G", "country": "BE",
        "phone": "+32 2 123 45 67", "email": "a" * 39 + "@example.fr",
    }  # fmt: skip

    response = place(shop, "WEB-1", **customer)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == customer
    assert body["customer_as_sent"] == {
        **{k: v for k, v in customer.items() if k != "country"}, "last_name": "OE" * 15,
    }  # fmt: skip


@pytest.mark.parametrize("price", ["٩.٩٠", "９.９０", "9.9٠"])
def test_a_price_in_other_than_ascii_digits_is_refused(shop: APIClient, price: str) -> None:
    response = place(shop, "WEB-1", unit_price=price)

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "validation_error"
    assert not Order.objects.exists()


# --- No existence oracle --------------------------------------------------------------------------

Probe = Callable[[APIClient, str], Any]
PROBES: dict[str, Probe] = {
    "order": lambda api, n: api.get(f"{ORDERS}{n}/"),
    "events": lambda api, n: api.get(f"{ORDERS}{n}/events/"),
    "cancel": lambda api, n: api.post(f"{ORDERS}{n}/cancel/", {}, format="json"),
    "cancel a line": lambda api, n: api.post(
        f"{ORDERS}{n}/cancel/", {"lines": [{"line_number": 1, "quantity": 1}], "reason": "CLI"}, format="json"
    ),
    "return": lambda api, n: api.post(
        "/api/v1/returns/",
        {"order_number": n, "lines": [{"line_number": 1, "quantity": 1}], "reason": "DEFE"},
        format="json",
    ),
    "returns": lambda api, n: api.get("/api/v1/returns/", {"order_number": n}),
}


@pytest.mark.parametrize("probe", PROBES)
def test_another_clients_order_answers_exactly_as_an_unknown_one(
    shop: APIClient, make_api: MakeApi, probe: str
) -> None:
    # given another client's order, and a number nobody used, of the same length
    other = make_api("other")
    assert place(other, "WEB-THEIRS-1").status_code == 201
    theirs, unknown = "WEB-THEIRS-1", "WEB-NOBODY-1"

    # when this client asks for both, with the same key (or none)
    for_theirs = PROBES[probe](shop, theirs)
    for_unknown = PROBES[probe](shop, unknown)

    # then both answers are the same but for the number they repeat
    assert for_theirs.status_code == for_unknown.status_code == 404
    a, b = error_of(for_theirs), error_of(for_unknown)
    assert a["code"] == b["code"] == "order_not_found"
    assert a["message"].replace(theirs, "N") == b["message"].replace(unknown, "N") == "no order N"
    assert a["detail"] == b["detail"] is None
    assert json.loads(for_theirs.content.replace(theirs.encode(), b"N")) == json.loads(
        for_unknown.content.replace(unknown.encode(), b"N")
    )
    assert Order.objects.get(order_number=theirs).status == "placed"  # and nothing happened to it


# --- The OpenAPI document ---------------------------------------------------------------------


def test_the_openapi_document_states_what_the_code_enforces(db: None) -> None:
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    components, paths = schema["components"]["schemas"], schema["paths"]

    order = components["OrderInputRequest"]["properties"]
    assert (order["order_number"]["pattern"], order["order_number"]["minLength"]) == (PATTERN, 1)
    assert order["order_number"]["maxLength"] == 20
    assert (order["lines"]["minItems"], order["lines"]["maxItems"]) == (1, 100)
    line = components["OrderLineInputRequest"]["properties"]
    assert line["unit_price"]["pattern"] == r"^[0-9]{1,7}(\.[0-9]{1,2})?$"
    customer = components["CustomerInputRequest"]["properties"]
    lengths = {name: customer[name].get("maxLength") for name in customer if name not in ("country", "email")}
    assert lengths == {
        "last_name": 30, "first_name": 20, "address_line1": 30, "address_line2": 30, "postal_code": 5,
        "city": 25, "phone": 15,
    }  # fmt: skip
    assert customer["email"]["oneOf"][0]["maxLength"] == 50
    countries = components[customer["country"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert len(countries) == 249
    assert {"FR", "BE", "DE", "GB"} <= set(countries)
    assert not {"EU", "UK", "XX", "fr"} & set(countries)
    for path in ("/api/v1/orders/{order_number}/", "/api/v1/orders/{order_number}/cancel/",
                 "/api/v1/orders/{order_number}/events/"):  # fmt: skip
        (parameter,) = [p for p in paths[path]["get" if "cancel" not in path else "post"]["parameters"]
                        if p["name"] == "order_number"]  # fmt: skip
        assert parameter["schema"]["pattern"] == PATTERN
    returns = components["ReturnInputRequest"]["properties"]
    assert returns["order_number"]["pattern"] == PATTERN
    (listed,) = [p for p in paths["/api/v1/returns/"]["get"]["parameters"] if p["name"] == "order_number"]
    assert listed["schema"]["pattern"] == PATTERN
    for name in ("OrderCancelInputRequest", "ReturnInputRequest", "ReservationInputRequest"):
        lines = components[name]["properties"]["lines"]
        assert (lines["minItems"], lines["maxItems"]) == (1, 100), name
    assert PATTERN in schema["info"]["description"]
