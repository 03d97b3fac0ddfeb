"""What may be returned after cancellations at a store counter, odd AS400 events (a negative pick)
and odd paths: each case a defect that was found, proven by its test first."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from integration.as400.records import ordsts_records, strrtn_records
from orders.lifecycle import ordsts_apply, strrtn_apply
from orders.models import As400Event, Order
from returns.selectors import returnable_of_order
from returns.services import ReturnLineInput, return_create
from tests.factories.api import MakeApi, error_of
from tests.factories.returns import CLIENT, Shop, line_of, refusal, ship

pytestmark = pytest.mark.django_db


def columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [record[name] for record in records] for name in records[0]}


def strrtn(order: Order, line: int, item: str, qty: int, code: str, store: int) -> dict[str, Any]:
    return {"SRWEBN": order.order_number, "SRMAG": store, "SRLIGN": line, "SRITEM": item, "SRQTE": qty,
            "SRTYPE": code, "SRRSN": "", "SRDATE": 1260310, "SRTIME": 101500}  # fmt: skip


def ordsts(order: Order, line: int, item: str, qty: int, code: str, time: int = 101500) -> dict[str, Any]:
    return {"OSWEBN": order.order_number, "OSCDE": "", "OSLIGN": line, "OSITEM": item, "OSQTE": qty,
            "OSEVT": code, "OSTRK": "", "OSDATE": 1260310, "OSTIME": time}  # fmt: skip


def test_units_cancelled_at_the_counter_were_never_handed_over_so_cannot_be_returned(shop: Shop) -> None:
    """STRRTN C cancels units that waited in store: the customer never had them, no web return for them."""
    order = shop.order("WEB-1", {"C": 2}, store=1)
    ship(order, 1, 2, ready=True)  # ORDSTS L 2
    strrtn_apply(
        records=strrtn_records(columns([strrtn(order, 1, "IC", 2, "C", 1)]), "STRRTN_000001"),
        source="STRRTN_000001",
    )
    assert As400Event.objects.get().outcome == "applied"

    assert {n: r.units for n, r in returnable_of_order(order_id=order.pk).items()} == {1: 0}
    error = refusal(
        return_create, client=CLIENT, order_number="WEB-1", lines=[ReturnLineInput(1, 1)], reason="TAIL"
    )
    assert error.code == "nothing_to_return"


def test_one_of_two_ready_units_cancelled_at_the_counter_leaves_one_returnable(shop: Shop) -> None:
    order = shop.order("WEB-1", {"C": 2}, store=1)
    ship(order, 1, 2, ready=True)
    strrtn_apply(
        records=strrtn_records(columns([strrtn(order, 1, "IC", 1, "C", 1)]), "STRRTN_000001"),
        source="STRRTN_000001",
    )

    assert {n: r.units for n, r in returnable_of_order(order_id=order.pk).items()} == {1: 1}
    ret, created = return_create(
        client=CLIENT, order_number="WEB-1", lines=[ReturnLineInput(1, 1)], reason="TAIL"
    )
    assert created
    assert ret.store == 1


def test_a_pick_with_a_negative_quantity_does_not_make_later_picks_stale(shop: Shop) -> None:
    """A P with OSQTE ≤ 0 is rejected; it must not count as units seen picked for the next P."""
    order = shop.order("WEB-1", {"A": 3})
    ordsts_apply(
        records=ordsts_records(columns([ordsts(order, 1, "IA", -5, "P")]), "ORDSTS_000001"),
        source="ORDSTS_000001",
    )
    ordsts_apply(
        records=ordsts_records(columns([ordsts(order, 1, "IA", 2, "P", 101600)]), "ORDSTS_000002"),
        source="ORDSTS_000002",
    )

    assert [(e.quantity, e.outcome, e.applied_quantity) for e in As400Event.objects.order_by("id")] == [
        (-5, "rejected", 0),
        (2, "applied", 2),
    ]
    assert line_of(order, "A").picked == 2


@pytest.fixture
def api(make_api: MakeApi) -> APIClient:
    return make_api(CLIENT)


@pytest.mark.parametrize(
    ("method", "url", "code"),
    [
        ("get", "/api/v1/returns/A%00B/", "return_not_found"),
        ("get", "/api/v1/orders/A%00B/events/", "order_not_found"),
        ("get", "/api/v1/orders/A%00B/", "order_not_found"),
        ("post", "/api/v1/orders/A%00B/cancel/", "order_not_found"),
        ("get", "/api/v1/products/A%00B/", "product_not_found"),
    ],
)
def test_a_nul_character_in_the_path_is_not_found_not_a_500(
    shop: Shop, api: APIClient, method: str, url: str, code: str
) -> None:
    response = getattr(api, method)(url, format="json")
    assert response.status_code == 404, response.content
    assert error_of(response)["code"] == code
