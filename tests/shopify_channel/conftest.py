"""The Shopify channel's fixtures: the simulated shop with its locations mapped, and a small catalogue
(``shopify_side``, the two simulators side by side, is tests/plugins/shopify.py's)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.inventory import Catalogue
from tests.factories.shopify_channel import Shop


@pytest.fixture
def catalogue(db: None) -> Catalogue:
    return Catalogue()


@pytest.fixture
def shop(shopify_sim: Any, catalogue: Catalogue) -> Shop:
    shop = Shop(shopify_sim)
    shop.map_locations()
    return shop
