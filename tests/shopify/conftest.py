"""The connector's tests: a shop and its credentials in the settings, and the webhook topics'
registry restored after each test (a test registers the handlers it needs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django import Settings

from integration.shopify import calls, webhooks
from tests.factories.shopify_connector import CLIENT_ID, CLIENT_SECRET, SHOP


@pytest.fixture(autouse=True)
def shopify_settings(settings: Settings) -> Settings:
    settings.SHOPIFY_SHOP = SHOP
    settings.SHOPIFY_CLIENT_ID = CLIENT_ID
    settings.SHOPIFY_CLIENT_SECRET = CLIENT_SECRET
    # Retries of one execute quick (the waits still run on real time); the simulator (the
    # ``shopify_sim`` fixture, tests/plugins/shopify.py) sets its own shop and credentials.
    settings.SHOPIFY_HTTP_RETRY_BASE_SECONDS = 0.05
    settings.SHOPIFY_HTTP_RETRY_MAX_SECONDS = 0.2
    return settings


@pytest.fixture(autouse=True)
def registries() -> Iterator[None]:
    """What a test registers (webhook topics, call kinds) is gone after it."""
    topics, kinds = dict(webhooks._handlers), dict(calls._performers)
    webhooks._handlers.clear()  # the domain's own (shopify_channel's, at start-up) are not the test's
    yield
    webhooks._handlers.clear()
    webhooks._handlers.update(topics)
    calls._performers.clear()
    calls._performers.update(kinds)

