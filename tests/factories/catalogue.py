"""The storefront's small catalogue, as the API, admin and returns tests build it.

``Catalogue()`` makes warehouse 900, click-and-collect stores 1 and 2, store 3 without, and a live,
a pilot and an off family; ``catalogue.product(sku, stock={900: 10}, ...)`` adds a product mapped
to ``sku`` (item number ``I<sku>``) with its stock levels as of ``AS_OF``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from inventory.models import Category, ItemMapping, Location, Product, StockLevel

AS_OF = datetime.fromisoformat("2026-11-22T03:45:00+01:00")


class Catalogue:
    """Warehouse 900, click-and-collect stores 1 and 2, store 3 without; live, pilot and off families."""

    def __init__(self) -> None:
        Location.objects.bulk_create(
            [
                Location(code=900, name="Entrepôt", kind=Location.Kind.WAREHOUSE),
                Location(code=1, name="Paris", click_and_collect=True),
                Location(code=2, name="Lyon", click_and_collect=True),
                Location(code=3, name="Lille", click_and_collect=False),
            ]
        )
        self.live = Category.objects.create(family_code="LIVE", name="Outillage", rollout_stage="live")
        self.pilot = Category.objects.create(family_code="PILO", name="Jardin", rollout_stage="pilot")
        self.off = Category.objects.create(family_code="OFF", name="Cuisine", rollout_stage="off")

    def product(
        self,
        sku: str,
        *,
        stock: dict[int, int] | None = None,
        category: Category | None = None,
        status: str = "A",
        mapped: bool = True,
        price: str = "9.90",
        **fields: Any,
    ) -> Product:
        product = Product.objects.create(
            item_number=f"I{sku}"[:15],
            category=category or self.live,
            price=Decimal(price),
            status=status,
            **fields,
        )
        if mapped:
            ItemMapping.objects.create(product=product, sku=sku)
        for location, on_hand in (stock if stock is not None else {900: 10}).items():
            StockLevel.objects.create(product=product, location_id=location, on_hand=on_hand, as_of=AS_OF)
        return product
