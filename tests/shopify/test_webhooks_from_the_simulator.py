"""Webhooks as the Shopify simulator sends them (signed with the app's secret, Shopify's headers) to
the real endpoint on a live server: taken once even when delivered twice, then applied once."""

from __future__ import annotations

from typing import Any

import pytest

from integration.shopify.client import shopify_client
from integration.shopify.models import WebhookEvent
from integration.shopify.webhooks import WebhookMeta, webhook_event_apply, webhook_topic_register

pytestmark = [pytest.mark.django_db(transaction=True)]

ORDER = {"id": 820982911946154508, "name": "#1001", "updated_at": "2026-11-24T10:00:00+01:00"}


def test_an_event_delivered_twice_by_shopify_is_stored_once_and_applied_once(
    shopify_sim: Any, live_server: Any
) -> None:
    # given our endpoint subscribed to orders/create through the client, and Shopify delivering twice
    uri = f"{live_server.url}/shopify/webhooks"
    answer = shopify_client().execute(
        "webhook_subscription_create", {"topic": "ORDERS_CREATE", "webhookSubscription": {"uri": uri}}
    )
    assert answer.data is not None
    assert answer.data["webhookSubscriptionCreate"]["userErrors"] == []
    shopify_sim.fault_webhooks("twice", topic="orders/create")
    seen: list[tuple[dict[str, Any], WebhookMeta]] = []
    webhook_topic_register("orders/create", lambda payload, meta: seen.append((payload, meta)))

    # when Shopify sends the event
    [delivery] = shopify_sim.webhook_send("orders/create", ORDER)
    assert shopify_sim.webhooks_wait(timeout=30)

    # then both deliveries were answered 200, one event is stored, with Shopify's headers
    assert [d["statuses"] for d in shopify_sim.deliveries] == [[200], [200]]
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.topic, event.webhook_id, event.shop_domain, event.api_version) == (
        delivery["event_id"], "orders/create", delivery["webhook_id"], shopify_sim.shop_domain, "2026-10",
    )  # fmt: skip
    assert event.triggered_at is not None

    # and applying it (the task's work) gives the handler the order, once
    assert webhook_event_apply(event_id=event.pk) == "applied"
    assert webhook_event_apply(event_id=event.pk) == "applied"
    assert [payload for payload, _ in seen] == [ORDER]
