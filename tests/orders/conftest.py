"""The simulated AS400 with a small catalogue applied, and helpers to place orders on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from inventory.models import Category, Product
from inventory.reference import locations_seed_default
from inventory.reservations import LineRequest, reservation_create
from orders.services import Customer, LineInput, OrderInput, order_place
from tests.moments import TUESDAY


@pytest.fixture
def simulator(tmp_path: Path, settings: Any) -> Iterator[Simulator]:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_EXCHANGE_BACKEND = "simulator"  # the simulator is the AS400: its clock dates the files
    sim = Simulator.from_settings(items=60, auto_lifecycle=False, start=TUESDAY, store_sales_per_hour=0)
    sim.seed(seed=3, items=60)
    locations_seed_default()
    sim.initial_exports()
    exchange_sync()
    Category.objects.update(rollout_stage=Category.Stage.LIVE)
    yield sim
    sim.close()


def warehouse_items(count: int) -> list[Product]:
    items = list(
        Product.objects.filter(
            status="A", stock_levels__location_id=900, stock_levels__on_hand__gte=20
        ).order_by("item_number")[:count]
    )
    assert len(items) == count
    return items


def place(n: int, product: Product, quantity: int = 1) -> None:
    reservation = reservation_create(lines=[LineRequest(product.item_number, quantity)], client="web")
    order_place(
        data=OrderInput(
            order_number=f"WEB-{n:06d}", reservation_id=str(reservation.pk), delivery="home",
            customer=Customer(last_name="Lefèvre", first_name="Zoë", city="Lyon"),
            lines=[LineInput(product.item_number, quantity, product.price)],
        ),
        client="web",
    )  # fmt: skip


def as400_orders(sim: Simulator) -> list[str]:
    return sorted(str(w).strip() for (w,) in sim.sql("SELECT WOWEBN FROM WEBORD"))
