"""The ``shopify_sim`` fixture: the Shopify simulator on a free loopback port, the settings at it.

A pytest plugin (listed in tests/conftest.py's ``pytest_plugins``) so that every suite takes it by
name. The shop has its three locations seeded (the warehouse "Entrepôt", two pickup stores); the
settings SHOPIFY_SHOP, SHOPIFY_ADMIN_URL, SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET point at it.
Webhooks go to the subscriptions the test creates (or to ``shopify_sim.webhook_url`` if it sets one).
``shopify_side`` is that shop beside the AS400 simulator, our catalogue and stock pushed to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from integration.shopify.simulator import ShopifySimulator

if TYPE_CHECKING:
    from tests.shopify_channel.flow import ShopifySide

SHOP = "test-shop.myshopify.com"
CLIENT_ID = "sim-client-id"
CLIENT_SECRET = "sim-client-secret-for-tests"


@pytest.fixture
def shopify_sim(settings: Any) -> Iterator[ShopifySimulator]:
    sim = ShopifySimulator(shop=SHOP, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                           api_version=settings.SHOPIFY_API_VERSION,
                           retry_delays=(0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0))  # fmt: skip
    url = sim.start()
    sim.seed_locations()
    settings.SHOPIFY_SHOP = SHOP
    settings.SHOPIFY_ADMIN_URL = url
    settings.SHOPIFY_CLIENT_ID = CLIENT_ID
    settings.SHOPIFY_CLIENT_SECRET = CLIENT_SECRET
    settings.SHOPIFY_BULK_POLL_SECONDS = 0.2  # no finish webhook unless the test subscribes
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def shopify_side(simulator: Any, shopify_sim: Any, settings: Any) -> Iterator[ShopifySide]:
    """The Shopify simulator beside the AS400's: its webhooks subscribed (our own check at start) to a
    loopback endpoint the tests relay to ours, its locations mapped, the AS400's catalogue and stock
    pushed to it by our own pushes (tests/shopify_channel/flow.py)."""
    from django.utils import timezone

    from shopify_channel.catalogue import catalogue_push
    from shopify_channel.poll import shopify_subscriptions_ensure
    from shopify_channel.stock import stock_mark_all, stock_push
    from tests.factories.shopify_channel import Shop
    from tests.integration.webhook_receiver import running_receiver
    from tests.shopify_channel.flow import ShopifySide

    with running_receiver() as receiver:
        settings.SHOPIFY_WEBHOOK_URL = receiver.url
        shopify_subscriptions_ensure(now=timezone.now())
        shop = Shop(shopify_sim)
        shop.map_locations()
        catalogue_push(now=timezone.now(), bulk_from=10**6)  # small batches: bulk operations are tested apart
        stock_mark_all(cause="gid://platform/Test/start", now=timezone.now())
        stock_push(now=timezone.now())
        yield ShopifySide(shopify_sim, shop, receiver)
