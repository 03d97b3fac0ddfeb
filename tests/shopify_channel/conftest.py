"""The Shopify channel's fixtures: the simulated shop with its locations mapped, and a small catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories.inventory import Catalogue
from tests.factories.shopify_channel import Shop
from tests.integration.webhook_receiver import running_receiver
from tests.shopify_channel.flow import ShopifySide


@pytest.fixture
def catalogue(db: None) -> Catalogue:
    return Catalogue()


@pytest.fixture
def shop(shopify_sim: Any, catalogue: Catalogue) -> Shop:
    shop = Shop(shopify_sim)
    shop.map_locations()
    return shop


@pytest.fixture
def shopify_side(simulator: Any, shopify_sim: Any, settings: Any) -> Iterator[ShopifySide]:
    """The Shopify simulator beside the AS400's: its webhooks subscribed (our own check at start) to a
    loopback endpoint the tests relay to ours, its locations mapped, the AS400's catalogue and stock
    pushed to it by our own pushes (tests/shopify_channel/flow.py)."""
    from django.utils import timezone

    from shopify_channel.catalogue import catalogue_push
    from shopify_channel.poll import shopify_subscriptions_ensure
    from shopify_channel.stock import stock_mark_all, stock_push

    with running_receiver() as receiver:
        settings.SHOPIFY_WEBHOOK_URL = receiver.url
        shopify_subscriptions_ensure(now=timezone.now())
        shop = Shop(shopify_sim)
        shop.map_locations()
        catalogue_push(now=timezone.now(), bulk_from=10**6)  # small batches: bulk operations are tested apart
        stock_mark_all(cause="gid://platform/Test/start", now=timezone.now())
        stock_push(now=timezone.now())
        yield ShopifySide(shopify_sim, shop, receiver)
