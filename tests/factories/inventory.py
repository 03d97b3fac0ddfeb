"""The inventory services' small sellable catalogue (reservations, the live check, the checkout).

``Catalogue()`` makes warehouse 900, click-and-collect store 1, store 2 without, and a live, a
pilot and an off family; ``catalogue.product(sku, stock={900: 10}, promised=0, ...)`` adds a
product whose item number is ``sku``, mapped to it, with its stock levels as of ``NOW``. (The
storefront API's catalogue, with item numbers ``I<sku>``, is tests/factories/catalogue.py.)
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from inventory.models import Category, ItemMapping, Location, Product, StockLevel

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.get_fixed_timezone(60))


class Catalogue:
    """A small sellable catalogue: live category, mapped active products, stock at 900 and 001."""

    def __init__(self) -> None:
        Location.objects.bulk_create(
            [
                Location(code=900, name="Entrepôt", kind=Location.Kind.WAREHOUSE),
                Location(code=1, name="Paris", click_and_collect=True),
                Location(code=2, name="Lyon", click_and_collect=False),
            ]
        )
        self.live = Category.objects.create(family_code="LIVE", rollout_stage=Category.Stage.LIVE)
        self.pilot = Category.objects.create(family_code="PILO", rollout_stage=Category.Stage.PILOT)
        self.off = Category.objects.create(family_code="OFF", rollout_stage=Category.Stage.OFF)

    def product(self, sku: str, *, stock: dict[int, int] | None = None, category: Category | None = None,
                promised: int = 0, status: str = "A", mapped: bool = True) -> Product:  # fmt: skip
        product = Product.objects.create(
            item_number=sku, category=category or self.live, price="9.90", status=status
        )
        if mapped:
            ItemMapping.objects.create(product=product, sku=sku)
        for location, on_hand in (stock or {900: 10}).items():
            StockLevel.objects.create(
                product=product, location_id=location, on_hand=on_hand, promised=promised, as_of=NOW
            )
        return product
