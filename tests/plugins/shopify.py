"""The ``shopify_sim`` fixture: the Shopify simulator on a free loopback port, the settings at it.

A pytest plugin (listed in tests/conftest.py's ``pytest_plugins``) so that every suite takes it by
name. The shop has its three locations seeded (the warehouse "Entrepôt", two pickup stores); the
settings SHOPIFY_SHOP, SHOPIFY_ADMIN_URL, SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET point at it.
Webhooks go to the subscriptions the test creates (or to ``shopify_sim.webhook_url`` if it sets one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from integration.shopify.simulator import ShopifySimulator

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
