"""The Shopify connector's tests: the shop and credentials they configure, and a signed delivery to the endpoint."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from integration.shopify.webhooks import webhook_hmac

SHOP = "test-shop.myshopify.com"
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret-0123456789"
WEBHOOK_URL = "/shopify/webhooks"


def webhook_headers(
    topic: str | None, event_id: str | None, body: bytes, *, secret: str = CLIENT_SECRET
) -> dict[str, str]:
    """The headers Shopify sends, as Django's test client takes them (``HTTP_...``); None leaves one out."""
    headers = {
        "HTTP_X_SHOPIFY_HMAC_SHA256": webhook_hmac(secret, body),
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": SHOP,
        "HTTP_X_SHOPIFY_API_VERSION": "2026-10",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": f"wh-{event_id}",
        "HTTP_X_SHOPIFY_TRIGGERED_AT": "2026-11-24T09:00:00.123456789Z",
    }
    if topic is not None:
        headers["HTTP_X_SHOPIFY_TOPIC"] = topic
    if event_id is not None:
        headers["HTTP_X_SHOPIFY_EVENT_ID"] = event_id
    return headers


def deliver(
    client: Client,
    topic: str | None,
    event_id: str | None,
    payload: Any,
    *,
    secret: str = CLIENT_SECRET,
    raw: bytes | None = None,
) -> Any:
    """POST one signed delivery to the endpoint, as Shopify does; returns the test client's response."""
    body = raw if raw is not None else json.dumps(payload).encode()
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        **webhook_headers(topic, event_id, body, secret=secret),
    )
