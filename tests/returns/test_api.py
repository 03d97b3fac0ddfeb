"""Returns through the storefront API: ask (201, a replay 200), refusals with their codes, read one,
list an order's (web and store alike), never another client's; and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from integration.models import OutboxMessage, StorefrontClient
from orders.models import Order
from returns.models import Return, ReturnLine
from returns.reasons import ReturnReason
from tests.factories.api import MakeApi, error_of
from tests.factories.returns import CLIENT, Shop, line_of, ship

pytestmark = pytest.mark.django_db

URL = "/api/v1/returns/"
RETURN_FIELDS = {
    "rma", "order_number", "source", "status", "reason", "comment", "store", "lines", "created_at",
    "announced_at", "received_at",
}  # fmt: skip


@pytest.fixture
def api(make_api: MakeApi) -> APIClient:
    return make_api(CLIENT)


@pytest.fixture
def shipped(shop: Shop) -> Order:
    """WEB-1: 3 of A and 2 of B, all shipped home."""
    order = shop.order("WEB-1", {"A": 3, "B": 2})
    ship(order, 1, 3)
    ship(order, 2, 2)
    return order


def body(**changes: Any) -> dict[str, Any]:
    return {"order_number": "WEB-1", "lines": [{"line_number": 1, "quantity": 2}], "reason": "TAIL"} | changes


def post(api: APIClient, data: Any, **headers: str) -> Any:
    return api.post(URL, data, format="json", **headers)


def test_asking_for_a_return_answers_201_with_the_return(shipped: Order, api: APIClient) -> None:
    response = post(
        api,
        body(
            comment="Trop petit", lines=[{"line_number": 2, "quantity": 1}, {"line_number": 1, "quantity": 2}]
        ),
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == RETURN_FIELDS
    ret = Return.objects.get()
    assert data | {"created_at": None} == {
        "rma": ret.rma, "order_number": "WEB-1", "source": "web", "status": "requested", "reason": "TAIL",
        "comment": "Trop petit", "store": 900, "created_at": None, "announced_at": None, "received_at": None,
        "lines": [
            {"line_number": 1, "sku": "A", "quantity": 2, "received_quantity": 0},
            {"line_number": 2, "sku": "B", "quantity": 1, "received_quantity": 0},
        ],
    }  # fmt: skip
    assert data["created_at"].startswith(str(ret.created_at.year))
    assert OutboxMessage.objects.get(kind="RTNIMP").payload["rma"] == ret.rma


def test_the_same_idempotency_key_answers_the_same_return_with_200(shipped: Order, api: APIClient) -> None:
    first = post(api, body(), HTTP_IDEMPOTENCY_KEY="rtn-42")
    again = post(api, body(store=900), HTTP_IDEMPOTENCY_KEY="rtn-42")
    other = post(api, body(reason="DEFE"), HTTP_IDEMPOTENCY_KEY="rtn-42")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert other.status_code == 409
    assert error_of(other) | {"message": ""} == {
        "code": "idempotency_key_conflict", "message": "", "detail": {"rma": first.json()["rma"]}
    }  # fmt: skip
    assert Return.objects.count() == 1


def test_without_a_key_each_post_is_a_new_return_until_nothing_is_left(
    shipped: Order, api: APIClient
) -> None:
    assert post(api, body()).status_code == 201
    assert post(api, body(lines=[{"line_number": 1, "quantity": 1}])).status_code == 201

    response = post(api, body(lines=[{"line_number": 1, "quantity": 1}]))

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "quantity_exceeds_returnable"
    assert error["detail"] == {
        "returnable": [{"line_number": 1, "quantity": 0}, {"line_number": 2, "quantity": 2}]
    }
    assert "line 1: 1 asked, 0 returnable" in error["message"]


def test_an_order_not_shipped_yet_has_nothing_to_return(shop: Shop, api: APIClient) -> None:
    shop.order("WEB-1", {"A": 1})

    response = post(api, body(lines=[{"line_number": 1, "quantity": 1}]))

    assert (response.status_code, error_of(response)["code"]) == (409, "nothing_to_return")
    assert not Return.objects.exists()


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"reason": "XXXX"}, 400, "invalid_reason"),
        ({"lines": [{"line_number": 9, "quantity": 1}]}, 400, "unknown_line"),
        (
            {"lines": [{"line_number": 1, "quantity": 1}, {"line_number": 1, "quantity": 1}]},
            400,
            "invalid_return",
        ),
        ({"store": 404}, 400, "invalid_return"),
        ({"lines": [{"line_number": 1, "quantity": 0}]}, 400, "validation_error"),
        ({"lines": []}, 400, "validation_error"),
        ({"lines": [{"line_number": 1, "quantity": "2"}]}, 400, "validation_error"),
        ({"reason": 12}, 400, "validation_error"),
        ({"order_number": "WEB-404"}, 404, "order_not_found"),
    ],
)
def test_refusals_have_their_status_and_code_and_write_nothing(
    shipped: Order, api: APIClient, changes: dict[str, Any], status: int, code: str
) -> None:
    response = post(api, body(**changes))

    assert (response.status_code, error_of(response)["code"]) == (status, code)
    assert not Return.objects.exists()
    assert not OutboxMessage.objects.filter(kind="RTNIMP").exists()


def test_an_invalid_reason_names_the_reasons(shipped: Order, api: APIClient) -> None:
    error = error_of(post(api, body(reason="OOPS")))

    assert error["detail"] == {"reasons": ["DEFE", "ABIM", "ERRA", "TAIL", "NCON", "RETR", "AUTR"]}


def test_a_malformed_idempotency_key_is_400(shipped: Order, api: APIClient) -> None:
    response = post(api, body(), HTTP_IDEMPOTENCY_KEY="with space")

    assert (response.status_code, error_of(response)["code"]) == (400, "validation_error")
    assert not Return.objects.exists()


def test_reading_a_return_shows_what_was_received(shipped: Order, api: APIClient) -> None:
    rma = post(api, body()).json()["rma"]
    ReturnLine.objects.update(received_quantity=1)
    Return.objects.update(status="partially_received")

    response = api.get(f"{URL}{rma}/")

    assert response.status_code == 200
    data = response.json()
    assert (data["rma"], data["status"]) == (rma, "partially_received")
    assert data["lines"] == [{"line_number": 1, "sku": "A", "quantity": 2, "received_quantity": 1}]


def test_a_client_never_sees_another_clients_returns(
    shipped: Order, api: APIClient, make_api: MakeApi
) -> None:
    rma = post(api, body()).json()["rma"]
    other = make_api("other")

    assert (other.get(f"{URL}{rma}/").status_code, error_of(other.get(f"{URL}{rma}/"))["code"]) == (
        404, "return_not_found"
    )  # fmt: skip
    assert error_of(other.get(URL, {"order_number": "WEB-1"}))["code"] == "order_not_found"
    assert error_of(post(other, body()))["code"] == "order_not_found"
    assert error_of(api.get(f"{URL}NOSUCHRMA/"))["code"] == "return_not_found"


def test_an_orders_returns_list_web_and_store_returns_newest_first(shipped: Order, api: APIClient) -> None:
    first = post(api, body()).json()["rma"]
    # STRRTN R: 1 unit of B brought back to store 2 (its applier writes a received store return).
    store_return = Return.objects.create(
        rma="S0000000000X",
        order=shipped,
        client=CLIENT,
        source="store",
        status="received",
        reason="RMAG",
        store=2,
    )
    ReturnLine.objects.create(
        ret=store_return, order_line=line_of(shipped, "B"), quantity=1, received_quantity=1
    )
    last = post(api, body(lines=[{"line_number": 1, "quantity": 1}], reason="DEFE")).json()["rma"]

    response = api.get(URL, {"order_number": "WEB-1"})

    assert response.status_code == 200
    data = response.json()
    assert data["next"] is None
    assert [(r["rma"], r["source"], r["status"]) for r in data["results"]] == [
        (last, "web", "requested"),
        ("S0000000000X", "store", "received"),
        (first, "web", "requested"),
    ]
    assert data["results"][1]["lines"] == [
        {"line_number": 2, "sku": "B", "quantity": 1, "received_quantity": 1}
    ]
    assert all(set(r) == RETURN_FIELDS for r in data["results"])


def test_the_list_goes_page_by_page(shipped: Order, api: APIClient) -> None:
    rmas = [post(api, body(lines=[{"line_number": 1, "quantity": 1}])).json()["rma"] for _ in range(3)]

    first = api.get(URL, {"order_number": "WEB-1", "limit": 2}).json()
    second = api.get(first["next"]).json()

    assert [r["rma"] for r in first["results"]] == rmas[::-1][:2]
    assert [r["rma"] for r in second["results"]] == rmas[:1]
    assert second["next"] is None
    assert "page=2" in first["next"]


def test_listing_needs_an_order_number(api: APIClient, shop: Shop) -> None:
    response = api.get(URL)

    assert (response.status_code, error_of(response)["code"]) == (400, "validation_error")


def test_returns_need_the_orders_scope(shipped: Order, make_api: MakeApi) -> None:
    reader = make_api(CLIENT, scopes=[StorefrontClient.Scope.CATALOG_READ])

    for response in (
        post(reader, body()),
        reader.get(URL, {"order_number": "WEB-1"}),
        reader.get(f"{URL}X/"),
    ):
        assert (response.status_code, error_of(response)["code"]) == (403, "insufficient_scope")


def test_the_openapi_document_describes_the_returns_and_stays_valid(db: None) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # OpenAPI 3 as drf-spectacular checks it (raises on an invalid document)

    document = yaml.safe_load(Client().get("/api/schema/").content)
    returns = document["paths"]["/api/v1/returns/"]
    assert {"200", "201", "400", "401", "403", "404", "409", "429"} <= set(returns["post"]["responses"])
    assert [p["name"] for p in returns["post"]["parameters"]] == ["Idempotency-Key"]
    assert {p["name"] for p in returns["get"]["parameters"]} == {"order_number", "limit", "page"}
    assert set(document["paths"]["/api/v1/returns/{rma}/"]) == {"get"}
    request = document["components"]["schemas"]["ReturnInputRequest"]
    reason = request["properties"]["reason"]
    enum = document["components"]["schemas"][reason["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert enum == list(ReturnReason.values)
    assert all(f"`{code}`: {label}" in reason["description"] for code, label in ReturnReason.choices)
    assert sorted(request["required"]) == ["lines", "order_number", "reason"]
