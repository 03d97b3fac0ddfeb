"""return_create: what a line can still return, the return and its RTNIMP message, idempotency.

Orders are placed through the real checkout; what ORDSTS and STRRTN would have reported is set on
the line's counters (their appliers are not under test here).
"""

from __future__ import annotations

from typing import Any

import pytest

from integration.models import OutboxMessage
from integration.storefront.api.errors import status_for
from inventory.models import Location
from orders.models import OrderLine
from returns.models import Return, ReturnLine
from returns.selectors import returnable_of_order
from returns.services import ReturnLineInput, return_create
from tests.factories.returns import CLIENT, Shop, line_of, refusal, ship
from tests.races import race

pytestmark = pytest.mark.django_db


def ask(order_number: str = "WEB-1", lines: list[tuple[int, int]] | None = None, **kwargs: Any) -> Return:
    kwargs.setdefault("client", CLIENT)
    kwargs.setdefault("reason", "TAIL")
    ret, created = return_create(
        order_number=order_number,
        lines=[ReturnLineInput(n, q) for n, q in (lines if lines is not None else [(1, 1)])],
        **kwargs,
    )
    assert created
    return ret


def returnable(order_id: int) -> dict[int, int]:
    return {n: r.units for n, r in returnable_of_order(order_id=order_id).items()}


def refused(**kwargs: Any) -> tuple[str, int, Any]:
    kwargs.setdefault("client", CLIENT)
    kwargs.setdefault("order_number", "WEB-1")
    kwargs.setdefault("reason", "TAIL")
    kwargs.setdefault("lines", [ReturnLineInput(1, 1)])
    error = refusal(return_create, **kwargs)
    return error.code, status_for(error), error.detail


def test_a_return_of_shipped_units_is_requested_with_its_lines_and_one_rtnimp_message(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 3, "B": 2})
    ship(order, 1, 3)
    ship(order, 2, 2)

    ret = ask(lines=[(2, 1), (1, 2)], reason="DEFE", comment="Ne démarre pas")

    assert (ret.source, ret.status, ret.reason, ret.comment, ret.store) == (
        "web", "requested", "DEFE", "Ne démarre pas", 900
    )  # fmt: skip
    assert ret.rma.startswith("W")
    assert len(ret.rma) == 12
    assert (ret.order_id, ret.client, ret.announced_at, ret.received_at) == (order.pk, CLIENT, None, None)
    assert sorted(
        ReturnLine.objects.values_list("order_line__line_number", "quantity", "received_quantity")
    ) == [
        (1, 2, 0),
        (2, 1, 0),
    ]
    message = OutboxMessage.objects.get(kind="RTNIMP")
    assert (message.subject, message.state) == (order.pk, "pending")
    assert message.payload == {
        "rma": ret.rma,
        "reason": "DEFE",
        "store": 900,
        "lines": [{"line": 1, "item": "IA", "quantity": 2}, {"line": 2, "item": "IB", "quantity": 1}],
    }
    assert returnable(order.pk) == {1: 1, 2: 1}


def test_nothing_shipped_is_nothing_to_return_and_writes_nothing(shop: Shop) -> None:
    shop.order("WEB-1", {"A": 3})

    assert refused() == ("nothing_to_return", 409, {"returnable": [{"line_number": 1, "quantity": 0}]})
    assert not Return.objects.exists()
    assert not OutboxMessage.objects.filter(kind="RTNIMP").exists()


def test_partial_returns_and_two_returns_on_one_line_never_ask_for_the_same_unit(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 3, "B": 2})
    ship(order, 1, 3)  # line 2 is not shipped yet

    ask(lines=[(1, 2)])
    assert refused(lines=[ReturnLineInput(1, 2)]) == (
        "quantity_exceeds_returnable", 409,
        {"returnable": [{"line_number": 1, "quantity": 1}, {"line_number": 2, "quantity": 0}]},
    )  # fmt: skip
    ask(lines=[(1, 1)])

    assert returnable(order.pk) == {1: 0, 2: 0}
    assert refused()[0] == "nothing_to_return"
    assert Return.objects.count() == OutboxMessage.objects.filter(kind="RTNIMP").count() == 2


def test_one_line_over_what_it_can_return_refuses_the_whole_return(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 3, "B": 2})
    ship(order, 1, 3)
    ship(order, 2, 1)

    code, _, detail = refused(lines=[ReturnLineInput(1, 3), ReturnLineInput(2, 2)])

    assert code == "quantity_exceeds_returnable"
    assert detail == {"returnable": [{"line_number": 1, "quantity": 3}, {"line_number": 2, "quantity": 1}]}
    assert not Return.objects.exists()
    assert not ReturnLine.objects.exists()


def test_received_units_count_once_whether_the_return_is_still_open_or_not(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 5})
    ship(order, 1, 5)
    first = ask(lines=[(1, 3)])
    assert returnable(order.pk) == {1: 2}
    # ORDSTS R: 1 of its 3 units arrived (the receipt moves them from "open" to "returned").
    ReturnLine.objects.filter(ret=first).update(received_quantity=1)
    Return.objects.filter(pk=first.pk).update(status="partially_received")
    OrderLine.objects.filter(order=order, line_number=1).update(returned=1)
    assert returnable(order.pk) == {1: 2}
    # The rest arrives: received, nothing open any more.
    ReturnLine.objects.filter(ret=first).update(received_quantity=3)
    Return.objects.filter(pk=first.pk).update(status="received")
    OrderLine.objects.filter(order=order, line_number=1).update(returned=3)
    assert returnable(order.pk) == {1: 2}

    ask(lines=[(1, 2)])
    assert returnable(order.pk) == {1: 0}


def test_units_returned_at_a_store_counter_are_not_returnable_again(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 3})
    ship(order, 1, 3)
    # STRRTN R: 2 units brought back to store 2; its applier writes a received store return.
    line = line_of(order, "A")
    OrderLine.objects.filter(pk=line.pk).update(returned=2)
    store_return = Return.objects.create(
        rma="S00000000001",
        order=order,
        client=CLIENT,
        source="store",
        status="received",
        reason="RMAG",
        store=2,
    )
    ReturnLine.objects.create(ret=store_return, order_line=line, quantity=2, received_quantity=2)

    assert returnable(order.pk) == {1: 1}
    assert refused(lines=[ReturnLineInput(1, 2)])[0] == "quantity_exceeds_returnable"
    ask(lines=[(1, 1)])


def test_click_and_collect_units_ready_in_store_come_back_to_the_pickup_store_by_default(shop: Shop) -> None:
    order = shop.order("WEB-1", {"C": 2}, store=1)
    ship(order, 1, 2, ready=True)

    ret = ask(lines=[(1, 2)], reason="RETR")

    assert ret.store == 1
    assert OutboxMessage.objects.get(kind="RTNIMP").payload["store"] == 1


def test_the_goods_may_come_back_to_any_location_that_exists(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 2})
    ship(order, 1, 2)

    assert refused(store=17) == ("invalid_return", 400, {"field": "store"})
    Location.objects.create(code=17, name="Nantes")
    assert ask(store=17).store == 17
    assert ask(store=3).store == 3


def test_another_clients_order_is_not_found(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 2}, client="other")
    ship(order, 1, 2)

    assert refused(client=CLIENT) == ("order_not_found", 404, None)
    assert refused(order_number="WEB-404")[0] == "order_not_found"
    assert ask(client="other").order_id == order.pk


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"reason": "XXXX"}, ("invalid_reason", 400)),
        ({"reason": ""}, ("invalid_reason", 400)),
        ({"reason": "tail"}, ("invalid_reason", 400)),
        ({"lines": []}, ("invalid_return", 400)),
        ({"lines": [ReturnLineInput(1, 1), ReturnLineInput(1, 1)]}, ("invalid_return", 400)),
        ({"lines": [ReturnLineInput(1, 0)]}, ("invalid_return", 400)),
        ({"comment": "x" * 501}, ("invalid_return", 400)),
        ({"lines": [ReturnLineInput(1, 1), ReturnLineInput(7, 1)]}, ("unknown_line", 400)),
    ],
)
def test_refused_input_has_its_code_and_writes_nothing(
    shop: Shop, changes: dict[str, Any], expected: tuple[str, int]
) -> None:
    order = shop.order("WEB-1", {"A": 2})
    ship(order, 1, 2)

    assert refused(**changes)[:2] == expected
    assert not Return.objects.exists()
    assert not OutboxMessage.objects.filter(kind="RTNIMP").exists()


def test_unknown_line_names_the_lines(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 2})
    ship(order, 1, 2)

    assert refused(lines=[ReturnLineInput(9, 1), ReturnLineInput(7, 1)])[2] == {"lines": [7, 9]}


def test_the_same_key_and_content_is_the_same_return_even_once_its_units_are_taken(shop: Shop) -> None:
    order = shop.order("WEB-1", {"A": 2})
    ship(order, 1, 2)
    first = ask(lines=[(1, 2)], idempotency_key="rtn-1")

    again, created = return_create(
        client=CLIENT, order_number="WEB-1", lines=[ReturnLineInput(1, 2)], reason="TAIL",
        store=900, idempotency_key="rtn-1",
    )  # fmt: skip

    assert (again.pk, created) == (first.pk, False)  # the default store made explicit is the same return
    assert Return.objects.count() == OutboxMessage.objects.filter(kind="RTNIMP").count() == 1


@pytest.mark.parametrize(
    "changes",
    [{"reason": "DEFE"}, {"comment": "autre"}, {"store": 1}, {"lines": [ReturnLineInput(1, 1)]}],
)
def test_the_same_key_with_other_content_is_a_conflict(shop: Shop, changes: dict[str, Any]) -> None:
    order = shop.order("WEB-1", {"A": 2})
    ship(order, 1, 2)
    first = ask(lines=[(1, 2)], idempotency_key="rtn-1")

    assert refused(idempotency_key="rtn-1", **({"lines": [ReturnLineInput(1, 2)]} | changes)) == (
        "idempotency_key_conflict", 409, {"rma": first.rma}
    )  # fmt: skip
    assert Return.objects.count() == 1


def test_the_same_key_on_another_order_is_a_conflict_and_keys_are_per_client(shop: Shop) -> None:
    for n, client in ((1, CLIENT), (2, CLIENT), (3, "other")):
        ship(shop.order(f"WEB-{n}", {"A": 1}, client=client), 1, 1)
    first = ask("WEB-1", idempotency_key="k")

    assert refused(order_number="WEB-2", idempotency_key="k")[:2] == ("idempotency_key_conflict", 409)
    assert ask("WEB-3", client="other", idempotency_key="k").pk != first.pk


# --- Races (PostgreSQL: real row locks between real connections) ----------------------------


def _race(calls: list[dict[str, Any]]) -> list[Any]:
    def run(kwargs: dict[str, Any]) -> tuple[str, str]:
        ret, created = return_create(**kwargs)
        return ("created" if created else "replayed", ret.rma)

    return [
        (getattr(o.error, "code", repr(o.error)), None) if o.error is not None else o.get()
        for o in race(run, [(kwargs,) for kwargs in calls], timeout=60)
    ]  # an error collected: the assertion shows it


def _body(**changes: Any) -> dict[str, Any]:
    return {
        "client": CLIENT, "order_number": "WEB-1", "lines": [ReturnLineInput(1, 3)], "reason": "TAIL",
    } | changes  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_at_the_same_moment_is_one_return() -> None:
    shop = Shop()
    ship(shop.order("WEB-1", {"A": 3}), 1, 3)

    results = _race([_body(idempotency_key="same")] * 6)

    rma = Return.objects.get().rma
    assert sorted(results) == sorted([("created", rma)] + [("replayed", rma)] * 5)
    assert OutboxMessage.objects.filter(kind="RTNIMP").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_returns_of_the_same_units_at_the_same_moment_take_them_once() -> None:
    shop = Shop()
    ship(shop.order("WEB-1", {"A": 3}), 1, 3)

    results = _race([_body(idempotency_key=f"k{n}") for n in range(4)])

    rma = Return.objects.get().rma
    assert sorted(results, key=str) == sorted([("created", rma)] + [("nothing_to_return", None)] * 3, key=str)
    assert ReturnLine.objects.get().quantity == 3
