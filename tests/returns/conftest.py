"""Orders to return: a small catalogue, orders placed through the real checkout, and their lines
shipped (or made ready) as ORDSTS would report them.

The simulated AS400 (``simulator``) and its helpers are the orders suite's, imported as they are.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from inventory.reservations import LineRequest, reservation_create
from orders.models import Order, OrderLine
from orders.services import Customer, LineInput, OrderInput, order_place
from returns.errors import ReturnError
from tests.api.conftest import Catalogue, MakeApi, make_api, own_rate_counts
from tests.orders.conftest import TUESDAY, place, simulator, warehouse_items

__all__ = ["TUESDAY", "make_api", "own_rate_counts", "place", "simulator", "warehouse_items"]

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


@pytest.fixture
def shop(db: None) -> Shop:
    return Shop()


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


def api_for(make_api: MakeApi, name: str = CLIENT, **kwargs: Any) -> APIClient:
    return make_api(name, **kwargs)
