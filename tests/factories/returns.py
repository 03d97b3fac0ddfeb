"""Orders to return, and what the returns' tests check with.

- ``Shop()``: the storefront's catalogue (tests/factories/catalogue.py) with A and B in the warehouse
  and C in store 1; ``shop.order(number, {"A": 2}, store=None)`` places an order through the real
  checkout (click and collect when ``store`` is given), for ``CLIENT`` unless told.
- ``ship(order, line_number, units, ready=False)``: what ORDSTS E (or L) reports for a line.
- ``line_of(order, sku)``: the order's line of that sku.
- ``refusal(call, **kwargs)``: the ReturnError that ``call(**kwargs)`` raises.
"""

from __future__ import annotations

from typing import Any

import pytest

from inventory.reservations import LineRequest, reservation_create
from orders.models import Order, OrderLine
from orders.services import Customer, LineInput, OrderInput, order_place
from returns.errors import ReturnError
from tests.factories.catalogue import Catalogue

CLIENT = "shop"


class Shop(Catalogue):
    """Warehouse 900, click-and-collect stores 1 and 2, store 3; A and B in the warehouse, C in store 1."""

    def __init__(self) -> None:
        super().__init__()
        self.a = self.product("A", stock={900: 20}, price="9.90")
        self.b = self.product("B", stock={900: 20}, price="4.50")
        self.c = self.product("C", stock={900: 5, 1: 10}, price="19.00")

    def order(
        self,
        number: str,
        lines: dict[str, int],
        *,
        client: str = CLIENT,
        store: int | None = None,
    ) -> Order:
        """Place an order through the checkout: ``lines`` is sku → units; ``store`` makes it click and collect."""
        location = store if store is not None else 900
        products = {"A": self.a, "B": self.b, "C": self.c}
        reservation = reservation_create(
            lines=[
                LineRequest(sku, qty, location if store is not None else None) for sku, qty in lines.items()
            ],
            client=client,
        )
        order, created = order_place(
            data=OrderInput(
                order_number=number, reservation_id=str(reservation.pk),
                delivery="click_and_collect" if store is not None else "home", pickup_location=store,
                customer=Customer(last_name="Lefèvre", first_name="Zoë", city="Lyon"),
                lines=[LineInput(sku, qty, products[sku].price) for sku, qty in lines.items()],
            ),
            client=client,
        )  # fmt: skip
        assert created
        return order


def ship(order: Order, line_number: int, units: int, *, ready: bool = False) -> None:
    """What ORDSTS E (or L) reports: ``units`` of the line left the warehouse (or wait in store)."""
    counter = "ready" if ready else "shipped"
    OrderLine.objects.filter(order=order, line_number=line_number).update(picked=units, **{counter: units})


def line_of(order: Order, sku: str) -> OrderLine:
    return OrderLine.objects.get(order=order, product__mapping__sku=sku)


def refusal(call: Any, **kwargs: Any) -> ReturnError:
    """The ReturnError that ``call(**kwargs)`` raises."""
    with pytest.raises(ReturnError) as caught:
        call(**kwargs)
    return caught.value
