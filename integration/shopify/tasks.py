"""django-q2 entry points of the Shopify connector (named by the schedules). Tasks call services."""

from __future__ import annotations

from integration.core.locks import one_at_a_time


def webhook_event_apply(event_id: int) -> str:
    """Apply one stored webhook event (queued when it commits)."""
    from integration.shopify.webhooks import webhook_event_apply as apply

    return apply(event_id=event_id)


@one_at_a_time("Shopify webhooks sweep")
def webhook_events_sweep() -> dict[str, int]:
    """Apply what was left received or failed with attempts left (every minute)."""
    from integration.shopify.webhooks import webhook_events_sweep as sweep

    return sweep().as_dict()


@one_at_a_time("Shopify calls")
def shopify_calls_send() -> dict[str, object]:
    """Send the due calls to Shopify (the every-minute sweep)."""
    return shopify_calls_send_doorbell()


def shopify_calls_send_doorbell() -> dict[str, object]:
    """Send the due calls to Shopify now (queued after a call is queued; calls are leased)."""
    from integration.shopify.calls import shopify_calls_send as send

    return send().as_dict()
